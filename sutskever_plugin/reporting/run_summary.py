"""A Table 1 work directory's test perplexities and decodes, one line each, for the log
summary of scripts/summarize_logs.sh (the trainings' lines: scoring.fairseq_output --summary)."""
import argparse
import glob
import json
import os
from typing import List


def summary(work: str) -> List[str]:
    out = ["## test perplexity (fairseq-validate)"]
    for path in sorted(glob.glob(os.path.join(work, "ppl", "*.json"))):
        with open(path) as f:
            out.append(f"{os.path.basename(path)[:-5]}: {round(json.load(f)['ppl'], 2)}")
    out.append("## decodes (tokenized cased BLEU detail)")
    for path in sorted(glob.glob(os.path.join(work, "decode", "*.json"))):
        with open(path) as f:
            d = json.load(f)
        out.append(f"{os.path.basename(path)[:-5]}: {d['bleu_tokenized_detail']} | beam {d.get('beam')}"
                   f" | models {d.get('models')} | wall {d.get('wall_s')} s")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python sutskever_plugin/reporting/run_summary.py",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("work", help="the work directory (WORK/ppl, WORK/decode)")
    print("\n".join(summary(p.parse_args(argv).work)))


if __name__ == "__main__":
    main()
