"""Test perplexity from a fairseq-validate log, as JSON (the paper: 5.8 -> 4.7).

    python -m sutskever_plugin.scoring.perplexity --log W/ppl/x.log --out W/ppl/x.json
"""
import argparse
import json
import sys

from sutskever_plugin.scoring.fairseq_output import FairseqOutputError, read_validate_ppl
from sutskever_plugin.data.textio import write_text


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.scoring.perplexity", description=__doc__)
    p.add_argument("--log", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        ppl = read_validate_ppl(args.log)
    except (FairseqOutputError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    write_text(args.out, json.dumps({"ppl": ppl, "log": args.log}))
    print(f"| perplexity: {ppl:.2f} ({args.log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
