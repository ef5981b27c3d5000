"""The command line of a run-time choice (bf16_choice): a measurement
printed as one JSON line and written to --out, or --describe FILE: the table header's
words for a measurement written before."""
import argparse
import json


def choice_parser(prog, doc):
    p = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="also write the JSON line here (atomically)")
    p.add_argument("--describe", metavar="JSON", help="print the header line for a measurement file")
    return p


def run_choice(args, measure, describe):
    """--describe: print describe(the file's JSON); else print measure()'s JSON line and
    write it to --out."""
    if args.describe:
        with open(args.describe, encoding="utf-8") as f:
            print(describe(json.load(f)))
        return 0
    line = json.dumps(measure())
    if args.out:
        from sutskever_plugin.data.textio import write_text
        write_text(args.out, line + "\n")
    print(line)
    return 0
