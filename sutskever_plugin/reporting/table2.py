"""Table 2 of the paper from the files that scripts/reproduce_table2.sh leaves in WORK.

    python -m sutskever_plugin.reporting.table2 --work work/small --scale small \\
        --baseline-nbest work/small/smt/test.nbest --out results

Every BLEU is computed here from 1-best files; missing inputs give "pending" rows. Read
from WORK/table2/, for KEY in forward, reversed1..5, ensemble5: ``KEY.nbest`` (the rescored
test list, with ``Baseline=`` and ``LSTM=`` columns), ``KEY.tuned.1best`` and ``KEY.json``
(rescore's outputs with the dev-tuned lambda), and ``oracle.1best``; the lambda = 0.5 and
LSTM-alone 1-bests are derived here from the columns (``KEY.avg.1best``,
``KEY.lstm_alone.1best``).
"""
import argparse
import functools
import json
import os
import sys
from typing import Dict, List, Optional, Tuple

import pandas as pd

from ..data.textio import count_lines, read_text_lines, write_lines, write_text
from ..rescoring.combine import (PAPER_WEIGHT, one_best, rerank, score_spread,
                                 scores_from_rescored)
from ..data.nbest import load_nbest
from ..scoring.bleu import bleu_summary, find_raw_reference, metric_description
from ..machine import commit, describe
from ..tables import describe_data, frame_markdown, report_head, write_csv
from ..tables import load_json as _load

# (key, the paper's row name with {n} for the list size, the paper's test BLEU as
# printed ("" for our rows), note); the paper's lists were 1000-best, ours are named by
# their own size
ROWS = [
    ("baseline", "Baseline System [29]", "33.30", ""),
    ("cho", "Cho et al. [5]", "34.54", "quoted from the paper, not reproduced"),
    ("wmt14", "Best WMT'14 result [9]", "37.0", "quoted from the paper, not reproduced"),
    ("forward", "Rescoring the baseline {n}-best with a single forward LSTM", "35.61", ""),
    ("reversed1", "Rescoring the baseline {n}-best with a single reversed LSTM", "35.85", ""),
    ("ensemble5", "Rescoring the baseline {n}-best with an ensemble of 5 reversed LSTMs",
     "36.5", ""),
    ("oracle", "Oracle Rescoring of the Baseline {n}-best lists", "~45",
     "per sentence the hypothesis with the best sentence BLEU"),
]
MODELS = {"forward": "forward", "reversed1": "reversed1",
          "ensemble5": "reversed1:reversed2:reversed3:reversed4:reversed5"}
# a row's own columns, between the paper's and the note (None where a row has none)
COLUMNS = ["ours", "ours_tuned_lambda", "lambda_tuned", "ours_sacrebleu_detok",
           "sacrebleu_signature", "models", "wall_s"]
SPREAD_COLUMNS = ["sd_baseline", "sd_lstm", "sd_ratio", "lambda05_is_lstm_best",
                  "lambda05_is_baseline_best", "ours_lstm_alone"]


def _bleu_cells(summary: Dict) -> Dict:
    return {"ours": summary["bleu_tokenized"], "ours_sacrebleu_detok": summary["sacrebleu_detok"],
            "sacrebleu_signature": summary["sacrebleu_signature"]}


def write_average_1best(rescored_nbest: str, num_sentences: int, out_prefix: str) -> dict:
    """From a rescored list's two score columns: the 1-best under the paper's even average
    (OUT_PREFIX.avg.1best), under the LSTM score alone (.lstm_alone.1best), and the
    spread of the two scores within the lists (returned)."""
    blocks = load_nbest(rescored_nbest, num_sentences)
    base, lstm = scores_from_rescored(blocks)
    for block, scores in zip(blocks, base):
        for e, v in zip(block, scores):
            e.score = float(v)
    write_lines(out_prefix + ".avg.1best", one_best(rerank(blocks, lstm, PAPER_WEIGHT)))
    write_lines(out_prefix + ".lstm_alone.1best", one_best(rerank(blocks, lstm, 1.0)))
    return score_spread(base, lstm)


def build_table(work: str, scale: str, baseline_nbest: str,
                src: str = "en", tgt: str = "fr", nbest_size: Optional[int] = None):
    data_dir = os.path.join(work, "data")
    refs = read_text_lines(os.path.join(data_dir, "tok", f"test.{tgt}"))
    raw_path = find_raw_reference(data_dir, "test", tgt)
    raw = read_text_lines(raw_path) if raw_path else None
    n_src = count_lines(os.path.join(data_dir, "tok", f"test.{src}"))
    if n_src != len(refs):
        raise SystemExit(f"test.{src} has {n_src} lines but test.{tgt} has {len(refs)}")
    t2 = os.path.join(work, "table2")

    def score(path: str) -> Optional[Dict]:
        if not os.path.exists(path):
            return None
        hyps = read_text_lines(path)
        if len(hyps) != len(refs):
            raise SystemExit(f"{path}: {len(hyps)} lines for {len(refs)} test sentences")
        return bleu_summary(hyps, refs, tgt, raw)

    @functools.cache
    def rescored(key: str) -> Tuple[Dict, Optional[Dict], Optional[Dict]]:
        """A rescoring's spread and its even-average and tuned 1-best scores, once per model."""
        prefix = os.path.join(t2, key)
        spread = write_average_1best(prefix + ".nbest", n_src, prefix)
        return spread, score(prefix + ".avg.1best"), score(prefix + ".tuned.1best")

    blocks = load_nbest(baseline_nbest, n_src)
    # the baseline's own 1-best: the first hypothesis of every block (Moses order)
    base = bleu_summary(one_best(blocks), refs, tgt, raw)
    sizes = [len(b) for b in blocks]
    n = nbest_size or max(sizes)
    smt = _load(os.path.join(work, "smt", "baseline_bleu.json")) or {}
    rows = []
    for key, name, paper, note in ROWS:
        row = {"method": name.format(n=n), "paper": float(paper.lstrip("~")) if paper else None,
               "paper_printed": paper, **dict.fromkeys(COLUMNS), "note": note,
               **dict.fromkeys(SPREAD_COLUMNS)}
        if key == "baseline":
            row.update(_bleu_cells(base), models=smt.get("models", f"external n-best: {baseline_nbest}"),
                       wall_s=smt.get("wall_s"), note="first hypothesis of each baseline n-best block")
        elif key in MODELS:
            meta = _load(os.path.join(t2, f"{key}.json"))
            if meta is None:
                row["note"] = "pending: rescoring not run"
                rows.append(row)
                continue
            spread, avg, tuned = rescored(key)
            alone = score(os.path.join(t2, f"{key}.lstm_alone.1best"))
            src_unk, hyp_unk = meta.get("source_unk", {}), meta.get("hypothesis_unk", {})
            row.update({c: spread[c] for c in SPREAD_COLUMNS if c in spread}, **_bleu_cells(avg),
                       ours_lstm_alone=alone["bleu_tokenized"], models=MODELS[key],
                       ours_tuned_lambda=tuned["bleu_tokenized"] if tuned else None,
                       lambda_tuned=meta.get("weight"),
                       # its models' scoring passes (rescore --token-scores) included
                       wall_s=round(meta.get("seconds", 0.0) + sum(meta.get("token_scores_seconds", [])), 1),
                       note="lambda 0.5, the paper's even average; <unk> in test: source "
                            f"{src_unk.get('unk_tokens', '?')}/{src_unk.get('tokens', '?')}, "
                            f"hypotheses {hyp_unk.get('unk_tokens', '?')}/{hyp_unk.get('tokens', '?')} tokens")
        elif key == "oracle":
            orc = score(os.path.join(t2, "oracle.1best"))
            if orc is None:
                row["note"] = "pending: oracle not run"
            else:
                row.update(_bleu_cells(orc))
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs["seeds"] = seed_rows(t2, rescored)
    df["scale"] = scale
    df["data"] = describe_data(data_dir)
    df["nbest_size"] = n
    df["nbest_mean"] = round(sum(sizes) / len(sizes), 1)
    df["hardware"] = describe()
    df["commit"] = commit()
    return df, base


def seed_rows(t2: str, rescored) -> List[Dict]:
    """Each reversed LSTM alone (the ensemble's members): is the single reversed row's lift
    a seed's luck? ``rescored``: build_table's scores of a rescoring, by model."""
    rows = []
    for k in range(1, 6):
        meta = _load(os.path.join(t2, f"reversed{k}.json"))
        if meta is None:
            continue
        _, avg, tuned = rescored(f"reversed{k}")
        rows.append({"model": f"reversed{k}", "ours": avg["bleu_tokenized"],
                     "lambda_tuned": meta.get("weight"),
                     "ours_tuned_lambda": tuned["bleu_tokenized"] if tuned else None})
    return rows


def seeds_markdown(df: pd.DataFrame) -> List[str]:
    seeds = df.attrs.get("seeds") or []
    base = df.iloc[0]["ours"]
    if len(seeds) < 2 or pd.isna(base):
        return []
    frame = pd.DataFrame(seeds)
    frame["lift"] = (frame["ours"] - base).round(2)
    lifted = int((frame["lift"] > 0).sum())
    shown = frame_markdown(frame, {
        "model": "Single reversed LSTM", "ours": "lambda 0.5", "lift": "against the baseline",
        "lambda_tuned": "tuned lambda", "ours_tuned_lambda": "lambda tuned on valid"})
    return [
        "## Every reversed seed alone",
        "",
        "The five reversed LSTMs of the ensemble, each rescoring the lists alone (the table's "
        "single reversed row is reversed1): at lambda 0.5, "
        f"{frame['ours'].min():.2f}-{frame['ours'].max():.2f}; the even average lifts the "
        f"baseline ({base:.2f}) for {lifted} of {len(frame)}.",
        "",
        shown,
        "",
    ]


def to_markdown(df: pd.DataFrame, scale: str, baseline_nbest: str) -> str:
    shown = frame_markdown(df, {
        "method": "Method", "paper_printed": "Paper (ntst14, 1000-best)",
        "ours": f"Ours ({scale}), lambda 0.5", "ours_tuned_lambda": "Ours, lambda tuned on valid",
        "lambda_tuned": "tuned lambda", "ours_sacrebleu_detok": "Ours, detok. sacreBLEU",
        "wall_s": "Wall time (s)", "note": "Note"})
    first = df.iloc[0]
    lines = report_head(
        f"Table 2: rescoring the baseline's {first['nbest_size']}-best lists with LSTMs",
        f"`bash scripts/reproduce_table2.sh --scale {scale}` from commit {first['commit']}", [
        f"- Scale: **{scale}**; data: {first['data']}",
        f"- Baseline n-best lists: `{baseline_nbest}`, {first['nbest_size']}-best: up to "
        f"{first['nbest_size']} hypotheses per sentence ({first['nbest_mean']} on average); "
        "the paper rescored 1000-best lists",
        "- Rescoring: new score = (1 - lambda) * baseline score + lambda * log p_LSTM(hyp | "
        "source); lambda = 0.5 is the paper's even average; the tuned lambda maximizes BLEU "
        "on the valid n-best lists (grid of 0.05). Ensemble scores are fairseq's "
        "(log of the token probabilities averaged over the models).",
        "- Wall time of a rescoring row: its models' scoring passes over the valid and "
        "test lists plus the rescoring itself; every model is run once (two at a time), "
        "so the ensemble's row counts the pass of the single reversed LSTM too.",
        metric_description(df["sacrebleu_signature"]),
        f"- Hardware: {first['hardware']}"])
    return "\n".join(lines + [shown, ""] + lift_markdown(df) + seeds_markdown(df) + spread_markdown(df))


def lift_markdown(df: pd.DataFrame) -> List[str]:
    """Per LSTM row: does the paper's even average (lambda 0.5) lift the baseline's BLEU,
    as it did in the paper, and does the lambda tuned on valid?"""
    base = df.iloc[0]  # the baseline is ROWS' first row, as in to_markdown
    rows = df[df["sd_ratio"].notna() & df["ours"].notna()]
    if rows.empty or pd.isna(base["ours"]):
        return []
    lines = ["## Does the even average lift the baseline?", ""]
    for _, r in rows.iterrows():
        d = r["ours"] - base["ours"]
        verdict = "lifts it" if d > 0 else "does not lift it"
        line = (f"- {r['method']}: lambda 0.5 gives {r['ours']:.2f} against the baseline's "
                f"{base['ours']:.2f} ({d:+.2f}): **{verdict}** (the paper: "
                f"{r['paper'] - base['paper']:+.2f})")
        if pd.notna(r["ours_tuned_lambda"]):
            line += (f"; lambda {r['lambda_tuned']:g}, tuned on valid, gives "
                     f"{r['ours_tuned_lambda']:.2f} ({r['ours_tuned_lambda'] - base['ours']:+.2f})")
        lines.append(line)
    return lines + [""]


def spread_markdown(df: pd.DataFrame) -> List[str]:
    """The second table: why the even average may not lift the baseline, per LSTM row."""
    rows = df[df["sd_ratio"].notna()]
    if rows.empty:
        return []
    shown = frame_markdown(rows.round(3), {
        "method": "Method (lambda 0.5)", "sd_baseline": "sd of baseline score",
        "sd_lstm": "sd of LSTM log-prob", "sd_ratio": "ratio LSTM / baseline",
        "lambda05_is_lstm_best": "share picking the LSTM's best",
        "lambda05_is_baseline_best": "share picking the baseline's best",
        "ours_lstm_alone": "BLEU, LSTM score alone"})
    return [
        "## The two scores' spread within each n-best list",
        "",
        "An even average of two scores is ordered mostly by the one that varies more "
        "across a list. sd: the standard deviation of a system's scores within a "
        "sentence's list, averaged over the test sentences (lists of two or more "
        "hypotheses); \"share picking ...\": the share of those sentences where lambda 0.5 "
        "picks the LSTM's own best hypothesis / the baseline's (both where they agree); the last "
        "column re-ranks by the LSTM score alone (lambda 1). All from the rescored lists' "
        "Baseline= and LSTM= columns, nothing tuned on test.",
        "",
        shown,
        "",
    ]


def main(argv=None):
    p = argparse.ArgumentParser(description="Write table2.csv and table2.md")
    p.add_argument("--work", required=True)
    p.add_argument("--scale", required=True)
    p.add_argument("--baseline-nbest", required=True, help="the baseline's test n-best list")
    p.add_argument("--nbest-size", type=int, help="nominal n-best size (default: largest block)")
    p.add_argument("--out", required=True, help="directory for table2.csv / table2.md")
    p.add_argument("--write-baseline-json", action="store_true",
                   help="also write WORK/smt/baseline_bleu.json from the n-best's 1-best "
                        "(for an external baseline, e.g. the paper's lists)")
    args = p.parse_args(argv)
    df, base = build_table(args.work, args.scale, args.baseline_nbest,
                           nbest_size=args.nbest_size)
    write_csv(os.path.join(args.out, "table2.csv"), df)
    if df.attrs["seeds"]:
        write_csv(os.path.join(args.out, "table2_seeds.csv"), pd.DataFrame(
            df.attrs["seeds"]).assign(scale=args.scale, commit=df["commit"].iloc[0]))
    write_text(os.path.join(args.out, "table2.md"),
                  to_markdown(df, args.scale, args.baseline_nbest))
    if args.write_baseline_json:
        base.update(models=f"external baseline n-best: {args.baseline_nbest}",
                    nbest=int(df["nbest_size"].iloc[0]))
        write_text(os.path.join(args.work, "smt", "baseline_bleu.json"),
                      json.dumps(base, indent=2))
    print(f"[table2] {len(df)} rows -> {args.out}/table2.md (baseline {df['ours'].iloc[0]}, "
          f"oracle {df['ours'].iloc[-1]})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
