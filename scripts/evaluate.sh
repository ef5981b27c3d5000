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
TAG=evaluate
source "$(dirname "$0")/lib.sh"

SCALE=small WORK="" SRC="" REF="" NAME=""
while [ $# -gt 0 ]; do
  case $1 in
    --src) SRC=$2; shift 2 ;;
    --ref) REF=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --name) NAME=$2; shift 2 ;;
    *) die "unknown argument '$1' (see the header of $0)" ;;
  esac
done
[ -n "$SRC" ] && [ -n "$REF" ] || die "--src and --ref are required (raw text, one sentence per line)"
[ -f "$SRC" ] || die "--src $SRC: no such file"
[ -f "$REF" ] || die "--ref $REF: no such file"
WORK=${WORK:-work/$SCALE}
NAME=${NAME:-$(basename "${SRC%.*}")}
for m in forward reversed1 reversed2 reversed3 reversed4 reversed5 attention; do
  [ -f "$WORK/models/$m.pt" ] || die "$WORK/models/$m.pt missing: run bash scripts/reproduce_table1.sh --scale $SCALE first"
done
EVAL=$WORK/eval/$NAME

setup_venv
step "prepare $NAME" "$EVAL/summary.json" \
    "$PY" -m sutskever_plugin.data.prepare --dataset eval --data-dir "$WORK/data" \
    --src "$SRC" --ref "$REF" --out "$EVAL" --quiet
source "$ROOT/scripts/table1_decodes.sh"
decode_all "$EVAL/bin" "$WORK/data" "$EVAL/decode" "$EVAL"
"$PY" -m sutskever_plugin.reporting.table1 --work "$WORK" --scale "$SCALE" --decode-dir "$EVAL/decode" \
    --out "$EVAL" --decoding "$DECODING" --test-set "$NAME ($SRC, $REF)"
cat "$EVAL/table1.md"
