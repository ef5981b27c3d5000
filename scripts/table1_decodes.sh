# The LSTM rows of Table 1 as fairseq-generate runs (sourced by reproduce_table1.sh and
# evaluate.sh, after lib.sh; needs WORK set to the directory holding models/).
#
#   decode_all BIN_DIR DATA_DIR OUT_DIR [REF_DIR]
# decodes the test split of BIN_DIR with every system and scores it against REF_DIR's
# tok/ and raw/ references (default DATA_DIR, the data the models were trained on).
# reproduce_table1.sh decodes each model alone as its training's pool job ends
# (decode_single), then the ensembles (decode_ensembles, decode_valid_beams).

# Left-to-right beam search without length normalisation, as the paper.
DECODING="beam search, no length normalisation (fairseq-generate --unnormalized), batch 64"

models() { local out="" m; for m in "$@"; do out+="${out:+:}$WORK/models/$m.pt"; done; echo "$out"; }

# The reason a fairseq-generate run failed, in one line (its full output stays in LOG).
decode_failed() {
  local log=$1 i
  i=$(grep -oE 'Size of sample #[0-9]+ is invalid' "$log" | grep -oE '[0-9]+' | head -n 1 || true)
  if [ -n "$i" ]; then
    echo "[$TAG] line $((i + 1)) of the test set is longer than the models' maximum positions: shorten or remove it (full output: $log)" >&2
  else
    echo "[$TAG] fairseq-generate: $(grep -v '^\s*$' "$log" | tail -n 1) (full output: $log)" >&2
  fi
}

# decode_one ID TASK BEAM MODEL...: the test split, or $SUBSET (valid) when set
decode_one() {
  local id=$1 task=$2 beam=$3 subset=${SUBSET:-test}; shift 3
  local gen=$OUT_DIR/$id.gen t0=$SECONDS
  local cmd=("$FS/fairseq-generate" "$BIN_DIR" --user-dir sutskever_plugin --task "$task"
             --path "$(models "$@")" --beam "$beam" --nbest 1 --unnormalized --batch-size 64
             --gen-subset "$subset")
  if [ "$DRY_RUN" = 1 ]; then run "${cmd[@]}"; return 0; fi
  "${cmd[@]}" > "$gen.tmp" 2> "$OUT_DIR/$id.log" || { decode_failed "$OUT_DIR/$id.log"; return 1; }
  mv "$gen.tmp" "$gen"
  "$PY" -m sutskever_plugin.scoring.score --generate-output "$gen" --data-dir "$DATA_DIR" \
      --ref-dir "$REF_DIR" --subset "$subset" --out "$OUT_DIR/$id.json" \
      --beam "$beam" --models "$*" --wall-s $((SECONDS - t0))
}

# decode_step NAME ID TASK BEAM MODEL...: decode_one as a step keyed on the models' files,
# the test split and dictionaries it decodes and the references it is scored against; in
# lib.sh's pool when the caller sets POOL_JOBS (reproduce_table1.sh: as many as cores,
# one thread each: beam search over small matrices uses a second thread poorly, so two
# decodes side by side finish sooner than the two in turn on both threads).
decode_step() {
  local name=$1 id=$2; shift 2
  local m files=("${TEST_INPUTS[@]}")
  for m in "${@:3}"; do files+=("$WORK/models/$m.pt"); done
  pool_step "$name" "$OUT_DIR/$id.json" --inputs "${files[@]}" -- decode_one "$id" "$@"
}

# split_inputs SPLIT: TEST_INPUTS = the files a decode of SPLIT is keyed on (BIN_DIR's
# dictionaries and SPLIT, REF_DIR's references of SPLIT), the existing ones only
split_inputs() {
  local had_nullglob=0
  shopt -q nullglob && had_nullglob=1
  shopt -s nullglob
  TEST_INPUTS=("$BIN_DIR"/dict.*.txt "$BIN_DIR"/"$1".* "$REF_DIR"/tok/"$1".* "$REF_DIR"/raw/"$1".*)
  [ "$had_nullglob" = 1 ] || shopt -u nullglob
}

# decode_single MODEL: the model alone at beam 12 on the test split, as its Table 1 row
# (forward, reversed1 as "reversed", attention) or its seed's row names it
decode_single() {
  local m=$1 task=translation id=$1
  case $m in reversed*) task=translation_reversed ;; esac
  case $m in forward|attention) ;; reversed1) id=reversed ;; *) id=$m ;; esac
  decode_step "decode $id beam 12" "${id}_beam12" "$task" 12 "$m"
}

# decode_set BIN_DIR DATA_DIR OUT_DIR [REF_DIR]: where the decodes go and what they read
decode_set() {
  BIN_DIR=$1 DATA_DIR=$2 OUT_DIR=$3 REF_DIR=${4:-$2}
  [ "$DRY_RUN" = 1 ] || mkdir -p "$OUT_DIR"
  split_inputs test
}

# decode_ensembles: the ensembles' rows of Table 1, the longest first (so that a pool of
# decodes ends together)
decode_ensembles() {
  local R="reversed1 reversed2 reversed3 reversed4 reversed5"
  decode_step "decode ensemble 5 beam 12" ens5_beam12      translation_reversed 12 $R
  decode_step "decode ensemble 2 beam 12" ens2_beam12      translation_reversed 12 reversed1 reversed2
  decode_step "decode ensemble 5 beam 2"  ens5_beam2       translation_reversed 2 $R
  decode_step "decode ensemble 5 beam 1"  ens5_beam1       translation_reversed 1 $R
}

decode_all() {
  decode_set "$@"
  decode_ensembles
  decode_single attention
  decode_single forward
  decode_single reversed1
}

# decode_valid_beams: the ensemble of 5 at beams 1, 2, 12 on the validation set (the
# paper's beam ordering, read on valid as on test). Reproduce_table1.sh only.
decode_valid_beams() {
  local R="reversed1 reversed2 reversed3 reversed4 reversed5" beam
  split_inputs valid
  if [ "$DRY_RUN" != 1 ] && ! compgen -G "$BIN_DIR/valid.*" > /dev/null; then
    say "no valid split in $BIN_DIR: the 5-ensemble's beams are decoded on test only"
  else
    for beam in 12 2 1; do  # the longest first
      SUBSET=valid decode_step "decode ensemble 5 beam $beam (valid)" "valid_ens5_beam$beam" \
        translation_reversed "$beam" $R
    done
  fi
  split_inputs test
}
