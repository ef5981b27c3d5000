# The LSTM rows of Table 1 as fairseq-generate runs (sourced by reproduce_table1.sh and
# evaluate.sh, after lib.sh; needs WORK set to the directory holding models/).
#
#   decode_all BIN_DIR DATA_DIR OUT_DIR [REF_DIR]
# decodes the test split of BIN_DIR with every system and scores it against REF_DIR's
# tok/ and raw/ references (default DATA_DIR, the data the models were trained on).

# Left-to-right beam search without length normalisation, as the paper.
DECODING="beam search, no length normalisation (fairseq-generate --unnormalized), batch 64"

models() { local out="" m; for m in "$@"; do out+="${out:+:}$WORK/models/$m.pt"; done; echo "$out"; }

# decode_one ID TASK BEAM MODEL...
decode_one() {
  local id=$1 task=$2 beam=$3; shift 3
  local gen=$OUT_DIR/$id.gen t0=$SECONDS
  run "$FS/fairseq-generate" "$BIN_DIR" --user-dir sutskever_plugin --task "$task" \
      --path "$(models "$@")" --beam "$beam" --nbest 1 --unnormalized --batch-size 64 \
      --gen-subset test > "$gen.tmp" 2> "$OUT_DIR/$id.log" || { tail -n 5 "$OUT_DIR/$id.log"; return 1; }
  [ "$DRY_RUN" = 1 ] && return 0
  mv "$gen.tmp" "$gen"
  "$PY" -m sutskever_plugin.scoring.score --generate-output "$gen" --data-dir "$DATA_DIR" \
      --ref-dir "$REF_DIR" --out "$OUT_DIR/$id.json" \
      --extra "{\"beam\": $beam, \"models\": \"$*\", \"wall_s\": $((SECONDS - t0))}"
}

decode_all() {
  BIN_DIR=$1 DATA_DIR=$2 OUT_DIR=$3 REF_DIR=${4:-$2}
  mkdir -p "$OUT_DIR"
  local R="reversed1 reversed2 reversed3 reversed4 reversed5"
  step "decode forward beam 12"    "$OUT_DIR/forward_beam12.json"   decode_one forward_beam12 translation 12 forward
  step "decode reversed beam 12"   "$OUT_DIR/reversed_beam12.json"  decode_one reversed_beam12 translation_reversed 12 reversed1
  step "decode ensemble 5 beam 1"  "$OUT_DIR/ens5_beam1.json"       decode_one ens5_beam1 translation_reversed 1 $R
  step "decode ensemble 2 beam 12" "$OUT_DIR/ens2_beam12.json"      decode_one ens2_beam12 translation_reversed 12 reversed1 reversed2
  step "decode ensemble 5 beam 2"  "$OUT_DIR/ens5_beam2.json"       decode_one ens5_beam2 translation_reversed 2 $R
  step "decode ensemble 5 beam 12" "$OUT_DIR/ens5_beam12.json"      decode_one ens5_beam12 translation_reversed 12 $R
  step "decode attention beam 12"  "$OUT_DIR/attention_beam12.json" decode_one attention_beam12 translation 12 attention
}
