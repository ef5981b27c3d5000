#!/usr/bin/env bash
# Evaluate the trained Table 1 systems on a test set of your own:
#
#   bash scripts/evaluate.sh --src X.en --ref X.fr [--scale small] [--work DIR] [--name NAME]
#
# The raw source and reference are prepared exactly as the training data were (same
# Moses tokenizer, same dictionaries: unknown words become <unk>, or the same
# SentencePiece models), every system of Table 1 decodes the source, and the same BLEU
# table (tokenized cased BLEU and detokenized sacreBLEU) is printed and written to
# WORK/eval/NAME/table1.md.  Needs the models of bash scripts/reproduce_table1.sh.
# Relative paths are read from the directory you run it in.  A rerun skips only the steps
# whose inputs are unchanged: the two files' contents (not their names), the training
# data's dictionaries and each decode's models.
TAG=evaluate
source "$(dirname "$0")/lib.sh"

SCALE=small WORK="" SRC="" REF="" NAME=""
COMMAND="bash scripts/evaluate.sh${*:+ $*}"   # named in the table's header
while [ $# -gt 0 ]; do
  case $1 in
    --src|--ref|--scale|--work|--name) need_value "$@" ;;&
    --src) SRC=$(abs_path "$2"); shift 2 ;;
    --ref) REF=$(abs_path "$2"); shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$(abs_path "$2"); shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
check_scale "$SCALE"
[ -n "$SRC" ] && [ -n "$REF" ] || die "--src and --ref are required (raw text, one sentence per line)"
[ -f "$SRC" ] || die "--src $SRC: no such file"
[ -f "$REF" ] || die "--ref $REF: no such file"
# the same file under two names (a symlink, a hard link, dir//file) by its inode, then a
# copy by its contents: English scored against English otherwise, with exit status 0
if [ "$SRC" -ef "$REF" ]; then
  [ "$SRC" = "$REF" ] && die "--src and --ref are the same file ($SRC): give the reference translations as --ref"
  die "--src $SRC and --ref $REF are the same file ($(realpath "$SRC"), one inode): give the reference translations as --ref"
fi
if cmp -s "$SRC" "$REF"; then
  die "--src $SRC and --ref $REF have the same contents: give the reference translations as --ref"
fi
WORK=${WORK:-work/$SCALE}
out_dir_ok --work "$WORK"
NAME=${NAME:-$(basename "${SRC%.*}")}
[[ $NAME =~ ^[A-Za-z0-9._-]+$ ]] || die "--name must be letters, digits, '.', '_' or '-' (got '$NAME')"
MODELS=(forward reversed1 reversed2 reversed3 reversed4 reversed5 attention)
for m in "${MODELS[@]}"; do
  [ -f "$WORK/models/$m.pt" ] || die "$WORK/models/$m.pt missing: run bash scripts/reproduce_table1.sh --scale $SCALE first"
done
[ -f "$WORK/data/summary.json" ] || die "$WORK/data/summary.json missing: run bash scripts/reproduce_table1.sh --scale $SCALE first"
EVAL=$WORK/eval/$NAME
lock_work "$WORK"   # no reproduce_table1.sh retraining the models while they decode (lib.sh)
# the models named in the table, with the digest that the decodes were keyed on
model_digests() {
  local m
  for m in "${MODELS[@]}"; do
    printf '%s.pt (sha256 %.12s) ' "$m" "$(step_key - --inputs "$WORK/models/$m.pt" | sed -n 3p)"
  done
}

setup_venv
digest_cache "$WORK"
# keyed on the two files' contents and on the training data's preparation and
# dictionaries: another file under the same name, or one edited in place, is prepared anew
shopt -s nullglob
PREP_INPUTS=("$SRC" "$REF" "$WORK/data/summary.json" "$WORK"/data/bin/dict.*.txt "$WORK"/data/spm/*.model)
shopt -u nullglob
step "prepare $NAME" "$EVAL/summary.json" --inputs "${PREP_INPUTS[@]}" -- \
    "$PY" -m sutskever_plugin.data.prepare --dataset eval --data-dir "$WORK/data" \
    --src "$SRC" --ref "$REF" --out "$EVAL" --quiet
source "$ROOT/scripts/table1_decodes.sh"
decode_all "$EVAL/bin" "$WORK/data" "$EVAL/decode" "$EVAL"
"$PY" -m sutskever_plugin.reporting.table1 --work "$WORK" --scale "$SCALE" --decode-dir "$EVAL/decode" \
    --out "$EVAL" --decoding "$DECODING" --test-set "$NAME ($SRC, $REF)" --command "$COMMAND" \
    --model "the Table 1 models: $(model_digests)" \
    --recipe "see $WORK/models/*.pt and the Table 1 run that trained them" \
    || die "writing the table $EVAL/table1.md failed (see the error above)"
cat "$EVAL/table1.md"
