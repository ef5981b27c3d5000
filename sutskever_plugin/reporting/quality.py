"""quality_SCALE.{csv,md,png}: what our training speed buys in model quality, from the
work directory of ``bash scripts/benchmark.sh --quality`` (scripts/quality.sh).

Both models trained side by side for the same wall-clock budget; from their fairseq-train
logs, validation perplexity against wall-clock time since each process started (the
first timestamped line of its log), and the test BLEU of each best checkpoint. The
issue's target (ours reaches the built-in's final validation perplexity in at most 60%
of the budget, and ends with the better BLEU) is judged by that fixed rule.
"""
import argparse
import os
import sys

import pandas as pd

from sutskever_plugin.analysis.plots import curves_figure
from sutskever_plugin.data.textio import write_text
from sutskever_plugin.machine import commit as commit_of_code, describe
from sutskever_plugin.scoring.fairseq_output import read_log, valid_curve
from sutskever_plugin.scoring.bleu import metric_description
from sutskever_plugin.tables import describe_data, load_json, report_head, table_head, table_row, write_csv

SYSTEMS = {"ours": "sutskever_lstm (ours)", "builtin": "fairseq lstm (built-in)"}
# the target: ours at the built-in's final val ppl within this share of the budget
TARGET_SHARE = 0.6
CSV_COLUMNS = ["kind", "system", "wall_s", "minutes", "num_updates", "val_ppl", "best_val_ppl",
               "test_bleu_beam12", "test_sacrebleu_beam12", "reached_builtin_best_s",
               "reached_share_of_budget", "budget_minutes", "ours_bf16", "scale", "hardware", "commit"]


def curve(work, system):
    """Validations of one training: wall_s since its process started, minutes,
    num_updates, ppl."""
    path = os.path.join(work, "logs", f"train_{system}.log")
    if not os.path.exists(path):
        raise ValueError(f"{path}: no training log: run bash scripts/benchmark.sh --quality first")
    log = read_log(path)
    c = valid_curve(log)
    if c.empty:
        raise ValueError(f"{path}: no validation line (\"valid on 'valid' subset ... ppl ...\"): "
                         "the training ended before its first validation; give it a larger "
                         "--budget-minutes or a smaller --validate-interval-updates")
    c["wall_s"] = (c["time"] - log["time"].min()).dt.total_seconds()
    c["minutes"] = c["wall_s"] / 60
    return c


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.reporting.quality", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True, help="directory for quality_SCALE.{csv,md,png}")
    p.add_argument("--scale", required=True)
    p.add_argument("--budget-minutes", type=float, required=True)
    p.add_argument("--validate-interval-updates", type=int, required=True)
    p.add_argument("--ours-flags", required=True)
    p.add_argument("--builtin-flags", required=True)
    p.add_argument("--common-flags", required=True)
    p.add_argument("--cores", required=True)
    p.add_argument("--command", required=True)
    a = p.parse_args(argv)
    try:
        curves = {s: curve(a.work, s) for s in SYSTEMS}
    except ValueError as e:
        sys.exit(f"error: {e}")
    decodes = {s: load_json(os.path.join(a.work, "decode", f"{s}_beam12.json")) or {} for s in SYSTEMS}
    autocast = "--autocast-bf16" in a.ours_flags.split()
    hardware, commit = describe(), commit_of_code()
    best = {s: float(c["ppl"].min()) for s, c in curves.items()}
    target = best["builtin"]
    # the first validation at or below it: an upper bound, as fine as the validation interval
    hit = curves["ours"][curves["ours"]["ppl"] <= target]
    t_reach = None if hit.empty else float(hit["wall_s"].iloc[0])
    share = None if t_reach is None else t_reach / (a.budget_minutes * 60)

    base = dict(budget_minutes=a.budget_minutes, ours_bf16="on" if autocast else "off", scale=a.scale,
                hardware=hardware, commit=commit)
    rows = []
    for s, c in curves.items():
        for _, r in c.iterrows():
            rows.append(dict(kind="val", system=s, wall_s=round(r["wall_s"], 1), minutes=round(r["minutes"], 3),
                             num_updates=int(r["num_updates"]), val_ppl=r["ppl"], **base))
    for s, c in curves.items():
        d = decodes[s]
        rows.append(dict(kind="final", system=s, wall_s=round(float(c["wall_s"].iloc[-1]), 1),
                         minutes=round(float(c["minutes"].iloc[-1]), 3),
                         num_updates=int(c["num_updates"].iloc[-1]), val_ppl=float(c["ppl"].iloc[-1]),
                         best_val_ppl=best[s], test_bleu_beam12=d.get("bleu_tokenized"),
                         test_sacrebleu_beam12=d.get("sacrebleu_detok"),
                         reached_builtin_best_s=t_reach if s == "ours" else None,
                         reached_share_of_budget=round(share, 4) if s == "ours" and share is not None else None,
                         **base))
    stem = os.path.join(a.out, f"quality_{a.scale}")
    write_csv(stem + ".csv", rows, CSV_COLUMNS)

    vlines = [(a.budget_minutes, f"budget ({a.budget_minutes:g} min)")]
    if t_reach is not None:
        vlines.append((t_reach / 60, f"ours at the built-in's best ({share:.0%} of the budget)"))
    curves_figure({SYSTEMS[s]: (c["minutes"].tolist(), c["ppl"].tolist()) for s, c in curves.items()},
                  stem + ".png", xlabel="wall-clock minutes since the training started",
                  ylabel="validation perplexity (log scale)",
                  title=f"Multi30k En-Fr ({a.scale}), one core each, the same {a.budget_minutes:g}-minute budget",
                  hline=(target, f"built-in's best ({target:.2f})"), vlines=vlines)
    write_text(stem + ".md", markdown(a, curves, decodes, best, t_reach, share, autocast,
                                      hardware, commit, os.path.basename(stem) + ".png"))
    print(f"wrote {stem}.md, .csv and .png")


def _bleu(d, key):
    return f"{d[key]:.2f}" if d.get(key) is not None else "pending (no decode)"


def markdown(a, curves, decodes, best, t_reach, share, autocast, hardware, commit, png):
    lines = report_head(
        f"What the speed buys: validation perplexity in equal wall-clock time ({a.scale} scale)",
        f"`{a.command}`", [
             f"- Scale: **{a.scale}**; data: {describe_data(os.path.join(a.work, 'data'))}; source "
             "reversed for both (`--task translation_reversed`)",
             f"- Hardware: {hardware}; commit {commit}",
             f"- Budget: **{a.budget_minutes:g} minutes** of training wall clock each "
             "(`--stop-time-hours`, which counts validation and checkpointing too), both at the "
             f"same time, one core each (`taskset -c {a.cores}`, `OMP_NUM_THREADS=1`); validation "
             f"and a checkpoint every {a.validate_interval_updates} updates, so the faster model "
             "validates more often within its budget (it pays for it); the final model is each "
             "one's best validated checkpoint.",
             f"- bf16: ours **{'with' if autocast else 'without'} `--autocast-bf16`** "
             f"(`--bf16 {'on' if autocast else 'off'}`)",
             f"- Ours: `{a.ours_flags}`",
             f"- Built-in: `{a.builtin_flags}` (fairseq's LSTM without attention; its input "
             "feeding is built in and stays)",
             f"- Both: `{a.common_flags}`",
             "- Test BLEU: test2016, `fairseq-generate --beam 12 --unnormalized` (as Table 1)",
             metric_description(pd.Series([d.get("sacrebleu_signature") for d in decodes.values()],
                                          dtype=object))]) + [
             f"![validation perplexity against wall-clock minutes]({png})", "",
             *table_head("system", "updates in the budget", "validations", "best val ppl",
                         "last val ppl", "test BLEU (beam 12)", "detok. sacreBLEU")]
    for s, c in curves.items():
        lines.append(table_row(SYSTEMS[s], int(c["num_updates"].iloc[-1]), len(c), f"{best[s]:.2f}",
                               f"{c['ppl'].iloc[-1]:.2f}", _bleu(decodes[s], "bleu_tokenized"),
                               _bleu(decodes[s], "sacrebleu_detok")))
    lines.append("")
    target = best["builtin"]
    if t_reach is None:
        lines.append(f"Ours did **not** reach the built-in's best validation perplexity ({target:.2f}) "
                     f"within the budget (its best: {best['ours']:.2f}).")
    else:
        lines.append(f"Ours reached the built-in's best validation perplexity ({target:.2f}) after "
                     f"**{t_reach / 60:.1f} min = {share:.0%} of the budget** (the first validation at "
                     f"or below it; the curve crossed it since the validation before).")
    bo, bb = decodes["ours"].get("bleu_tokenized"), decodes["builtin"].get("bleu_tokenized")
    met_time = share is not None and share <= TARGET_SHARE
    met_bleu = bo is not None and bb is not None and bo > bb
    lines += ["", f"Issue 15's target, ours at the built-in's final validation perplexity in at most "
              f"{TARGET_SHARE:.0%} of the time and the better test BLEU: time **{'met' if met_time else 'not met'}**, "
              f"BLEU **{'met' if met_bleu else ('not met' if bo is not None and bb is not None else 'pending')}**.",
              "", f"Every validation of both runs: `{os.path.basename(png)[:-4]}.csv` (kind `val`; wall seconds "
              "since the process's first log line, which includes loading the data and building the "
              "model).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
