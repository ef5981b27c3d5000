"""Figures 2 and 3 and Table 3 of the paper from the models and decodes of Table 1.

    python -m sutskever_plugin.analysis --work work/small --out results

Reads WORK/data/, WORK/models/reversed1.pt (Figure 2), the LSTM ensemble's decode
(WORK/decode/ens5_beam12.tok) and the baseline's 1-best (WORK/smt/test.1best; when absent,
the single reversed LSTM's decode stands in and the report says so). Writes to OUT
figure2.{png,csv} (+ figure2_paper.{png,csv} when the vocabulary knows the paper's
phrases), figure3*.{png,csv}, table3.md, analysis.md and analysis.json (every number the
text quotes); anything whose inputs are missing is reported as pending.
"""
import argparse
import json
import logging
import os
import sys
from typing import Dict, List, Sequence

from ..data.pipeline import load_summary
from ..data.textio import DataPrepError, read_text_lines as read_lines, write_text
from .report import analysis_markdown
from ..machine import commit
from .table3 import table3_markdown, table3_rows
from ..tables import write_csv
from ..scoring.bleu import tokenized_bleu
from . import buckets as B
from .figure2 import figure2

# (decode id, name) of the LSTM system, and of the one standing in for a missing baseline
LSTM_ROW = ("ens5_beam12", "LSTM ensemble (5 reversed, beam 12)")
FALLBACK_ROW = ("reversed_beam12", "single reversed LSTM (beam 12)")
BASELINE_NAME = "phrase-based SMT baseline"
LENGTH_WIDTH = 4  # lengths per length bucket, the first starting at 4


def systems_for(args, refs: Sequence[str], report: dict) -> Dict[str, List[str]]:
    """{name: hypotheses} of the LSTM row and the baseline (or its stand-in)."""
    systems, notes = {}, []
    lstm_path = os.path.join(args.work, "decode", LSTM_ROW[0] + ".tok")
    if os.path.exists(lstm_path):
        systems[LSTM_ROW[1]] = read_lines(lstm_path)
    else:
        notes.append(f"pending: {lstm_path} not found (run scripts/reproduce_table1.sh)")
    base = os.path.join(args.work, "smt", "test.1best")
    if os.path.exists(base):
        systems[BASELINE_NAME] = read_lines(base)
        report["baseline"] = {"path": base, "stand_in": False}
    else:
        alt = os.path.join(args.work, "decode", FALLBACK_ROW[0] + ".tok")
        name = FALLBACK_ROW[1]
        if os.path.exists(alt):
            systems[name] = read_lines(alt)
            notes.append(f"the baseline's 1-best ({base}) is not there yet: the {name} "
                         f"stands in for it (run scripts/reproduce_table2.sh, then this again)")
        else:
            notes.append(f"the baseline's 1-best ({base}) is not there yet")
        report["baseline"] = {"path": base, "stand_in": name if name in systems else None}
    for name, hyps in systems.items():
        if len(hyps) != len(refs):
            raise ValueError(f"{name}: {len(hyps)} hypotheses for {len(refs)} test sentences "
                             "(was it decoded from another test set?)")
    report["systems"] = {name: {"overall_bleu": round(tokenized_bleu(h, refs).score, 2)}
                         for name, h in systems.items()}
    report["system_notes"] = notes
    for note in notes:
        print(f"[analysis] {note}", flush=True)
    return systems


def figure3(args, data_dir: str, out: str, systems, src_tok, ref_tok, report: dict):
    from .plots import bucket_figure

    names = list(systems)
    n = len(src_tok)
    lengths = B.token_lengths(src_tok)
    min_size = max(10, round(n / 40))
    by_len = B.length_buckets(lengths, width=LENGTH_WIDTH, min_size=min_size)
    len_rows = B.bucket_table(by_len, systems, ref_tok, lengths)
    sorted_len = B.equal_size_groups(lengths, args.groups)
    sorted_rows = B.bucket_table(sorted_len, systems, ref_tok, lengths)
    ranks = B.word_ranks(read_lines(os.path.join(data_dir, "tok", "train." + report["src"])))
    avg = B.average_ranks(src_tok, ranks)
    by_rank = B.equal_size_groups(avg, args.groups)
    rank_rows = B.bucket_table(by_rank, systems, ref_tok, avg)
    report["figure3"] = {
        "min_bucket": min_size, "length_width": LENGTH_WIDTH, "groups": args.groups,
        "train_source_words": len(ranks), "length": len_rows, "length_sorted": sorted_rows,
        "rank": rank_rows, "systems": names,
    }
    write_csv(os.path.join(out, "figure3_length.csv"),
              [dict(view=f"width {LENGTH_WIDTH}", **r) for r in len_rows]
              + [dict(view="sorted, equal groups", **r) for r in sorted_rows])
    write_csv(os.path.join(out, "figure3_rank.csv"), rank_rows)
    if not names:
        return
    len_view = {"rows": len_rows, "xlabel": "source sentence length (tokens)",
                "title": f"BLEU by sentence length (buckets of {LENGTH_WIDTH}, "
                         f">= {min_size} sentences each)"}
    sorted_view = {"rows": sorted_rows, "xlabel": "test sentences sorted by length: length range",
                   "title": f"BLEU by sentence length ({args.groups} equal groups, as the paper's axis)"}
    rank_view = {"rows": rank_rows, "xlabel": "average word frequency rank (range in group)",
                 "title": f"BLEU by average word frequency rank ({args.groups} equal groups)"}
    bucket_figure([len_view, sorted_view], names, os.path.join(out, "figure3_length.png"))
    bucket_figure([rank_view], names, os.path.join(out, "figure3_rank.png"))
    bucket_figure([len_view, rank_view], names, os.path.join(out, "figure3.png"),
                  "Figure 3 analogue (test set)")
    for label, rows in (("length", len_rows), ("rank", rank_rows)):
        for name in names:
            vals = " ".join(f"{r['bucket']}:{r[name]}" for r in rows)
            print(f"[analysis] figure 3 by {label}, {name}: {vals}", flush=True)


def table3(args, data_dir: str, out: str, systems, src_tok, ref_tok, report: dict):
    name = LSTM_ROW[1]
    if name not in systems:
        report["table3"] = {"pending": f"{LSTM_ROW[0]}.tok not found"}
        write_text(os.path.join(out, "table3.md"),
                   f"# Table 3: long translations\n\nCode: commit {commit()}.\n\nPending: "
                   f"{os.path.join(args.work, 'decode', LSTM_ROW[0] + '.tok')} not found "
                   "(run scripts/reproduce_table1.sh, then scripts/analyze.sh).\n")
        return
    hyps = systems[name]
    raw_src = os.path.join(data_dir, "raw", "test." + report["src"])
    raw_ref = os.path.join(data_dir, "raw", "test." + report["tgt"])
    src_show = read_lines(raw_src) if os.path.exists(raw_src) else src_tok
    ref_show = read_lines(raw_ref) if os.path.exists(raw_ref) else ref_tok
    rows = table3_rows(args.table3, src_tok, hyps, ref_tok, src_show, ref_show, report["tgt"])
    idx = [r["line"] - 1 for r in rows]
    rows_bleu = tokenized_bleu([hyps[i] for i in idx], [ref_tok[i] for i in idx]).score
    report["table3"] = {"system": name, "rows": rows, "bleu_of_these": round(rows_bleu, 2)}
    write_text(os.path.join(out, "table3.md"), table3_markdown(
        rows, name, f"Corpus BLEU of these {len(rows)} sentences: {rows_bleu:.2f} "
                    f"(whole test set: {report['systems'][name]['overall_bleu']:.2f})."))


def run(args) -> dict:
    data_dir = os.path.join(args.work, "data")
    summary = load_summary(data_dir)
    src_tok = read_lines(os.path.join(data_dir, "tok", f"test.{summary['src']}"))
    ref_tok = read_lines(os.path.join(data_dir, "tok", f"test.{summary['tgt']}"))
    report = {"work": args.work, "data": data_dir, "scale": summary.get("scale"),
              "dataset": summary.get("dataset"), "src": summary["src"], "tgt": summary["tgt"],
              "test_sentences": len(src_tok), "commit": commit()}
    figure2(args.work, summary, data_dir, args.out, report)
    if len(src_tok) != len(ref_tok):
        raise ValueError(f"{data_dir}/tok: {len(src_tok)} test sources but {len(ref_tok)} references")
    systems = systems_for(args, ref_tok, report)
    figure3(args, data_dir, args.out, systems, src_tok, ref_tok, report)
    table3(args, data_dir, args.out, systems, src_tok, ref_tok, report)
    report["lstm_row"] = LSTM_ROW[1]
    write_text(os.path.join(args.out, "analysis.json"), json.dumps(report, indent=1))
    write_text(os.path.join(args.out, "analysis.md"), analysis_markdown(report))
    print(f"[analysis] wrote {os.path.join(args.out, 'analysis.md')}", flush=True)
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.analysis", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True, help="the work directory of reproduce_table1.sh")
    p.add_argument("--out", required=True, help="output directory (e.g. results)")
    p.add_argument("--groups", type=int, default=10, help="equal-size groups (rank, sorted length)")
    p.add_argument("--table3", type=int, default=5, help="longest sentences in Table 3")
    args = p.parse_args(argv)
    # fairseq's imports leave the root logger at DEBUG (matplotlib then logs every font)
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)
    try:
        run(args)
    except (OSError, ValueError, DataPrepError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
