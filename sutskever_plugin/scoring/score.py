"""Score one fairseq-generate output against a prepared test set.

    python -m sutskever_plugin.scoring.score --generate-output W/decode/x.gen \\
        --data-dir W/data [--subset test] --out W/decode/x.json

Writes the 1-best hypotheses (``.tok``, Moses-tokenized, and ``.detok``) next to the JSON
of both BLEU scores, against the prepared test set's own references (tok/ and raw/), never
fairseq's ``T-`` lines, which carry <unk> in place of rare words.
"""
import argparse
import json
import os
import sys

from sutskever_plugin.data.evalset import postprocess_hypotheses
from sutskever_plugin.data.moses import detokenize
from sutskever_plugin.data.pipeline import load_summary
from sutskever_plugin.data.textio import read_text_lines, write_lines, write_text
from sutskever_plugin.scoring.bleu import bleu_summary
from sutskever_plugin.scoring.fairseq_output import FairseqOutputError, read_hypotheses


def score(generate_output, data_dir, subset="test", ref_dir=None):
    summary = load_summary(data_dir)
    tgt = summary["tgt"]
    ref_dir = ref_dir or data_dir
    ref_tok_path = os.path.join(ref_dir, "tok", f"{subset}.{tgt}")
    ref_tok = read_text_lines(ref_tok_path)
    if not ref_tok:
        raise ValueError(f"{ref_tok_path}: the test set is empty (0 sentences); BLEU is undefined")
    ref_raw = read_text_lines(os.path.join(ref_dir, "raw", f"{subset}.{tgt}"))
    hyps = postprocess_hypotheses(read_hypotheses(generate_output, len(ref_tok)), data_dir)
    hyps_detok = detokenize(hyps, tgt)
    return hyps, hyps_detok, bleu_summary(hyps, ref_tok, tgt, ref_raw, hyps_detok)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.scoring.score", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generate-output", required=True, help="fairseq-generate's stdout")
    p.add_argument("--data-dir", required=True, help="the prepared data directory the models were trained on")
    p.add_argument("--ref-dir", default=None, help="prepared test set directory (default: --data-dir)")
    p.add_argument("--subset", default="test")
    p.add_argument("--out", required=True, help="JSON to write (hypotheses go beside it)")
    # recorded in the output, for the tables: the decode's beam, models and wall seconds
    p.add_argument("--beam", type=int)
    p.add_argument("--models", help="the decode's models, space-separated")
    p.add_argument("--wall-s", type=int)
    args = p.parse_args(argv)
    try:
        hyps, detok, result = score(args.generate_output, args.data_dir, args.subset, args.ref_dir)
    except (FairseqOutputError, ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    result.update({k: v for k, v in (("beam", args.beam), ("models", args.models), ("wall_s", args.wall_s))
                   if v is not None})
    stem = os.path.splitext(args.out)[0]
    write_lines(stem + ".tok", hyps)
    write_lines(stem + ".detok", detok)
    write_text(args.out, json.dumps(result, indent=1))  # last: its presence means done
    print(f"| score {os.path.basename(stem)}: BLEU {result['bleu_tokenized']:.2f} (tokenized, cased), "
          f"sacreBLEU {result['sacrebleu_detok']:.2f} on {result['sentences']} sentences")
    return 0


if __name__ == "__main__":
    sys.exit(main())
