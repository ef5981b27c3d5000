"""Table 1 of the paper from the JSON files that reproduce_table1.sh leaves in WORK.

    python -m sutskever_plugin.reporting.table1 --work work/small --out results

One row per row of the paper's Table 1, named as the paper names it, our BLEU beside
the paper's, with the scale, data, model size, epochs, hardware and wall time that
produced it.  Rows whose inputs are missing are shown as pending, never guessed.
"""
import argparse
import glob
import os
import sys

import pandas as pd

from sutskever_plugin.data.textio import write_text
from sutskever_plugin.scoring.fairseq_output import validations
from sutskever_plugin.tables import describe_data, frame_markdown, report_head, write_csv
from sutskever_plugin.tables import load_json as _load
from sutskever_plugin.scoring.bleu import metric_description

# (decode id in WORK/decode, the paper's row name, the paper's BLEU, our note)
BLEU_ROWS = [
    ("attention_beam12", "Bahdanau et al. [2]", 28.45,
     "our analogue: fairseq's built-in attention LSTM (--arch lstm_autocast: lstm in our LSTMs' precision) at our LSTMs' size, beam 12"),
    ("baseline", "Baseline System [29]", 33.30,
     "our phrase-based SMT baseline (scripts/reproduce_table2.sh)"),
    ("forward_beam12", "Single forward LSTM, beam size 12", 26.17, ""),
    ("reversed_beam12", "Single reversed LSTM, beam size 12", 30.59, ""),
    ("ens5_beam1", "Ensemble of 5 reversed LSTMs, beam size 1", 33.00, ""),
    ("ens2_beam12", "Ensemble of 2 reversed LSTMs, beam size 12", 33.27, ""),
    ("ens5_beam2", "Ensemble of 5 reversed LSTMs, beam size 2", 34.50, ""),
    ("ens5_beam12", "Ensemble of 5 reversed LSTMs, beam size 12", 34.81, ""),
]
PPL_ROWS = [
    ("forward", "Test perplexity, single forward LSTM", 5.8),
    ("reversed1", "Test perplexity, single reversed LSTM", 4.7),
]


def learning_curves(work, out_dir, scale):
    """Every training's validation perplexity by update: CSV and figure, from the logs."""
    rows = [{"model": os.path.basename(log)[len("train_"):-len(".log")], "num_updates": u, "val_ppl": p}
            for log in sorted(glob.glob(os.path.join(work, "logs", "train_*.log")))
            for u, p in validations(log)]
    if not rows:
        return None
    df = pd.DataFrame(rows)
    write_csv(os.path.join(out_dir, f"table1_curves_{scale}.csv"), df)
    from sutskever_plugin.analysis.plots import curves_figure
    curves_figure({name: (g["num_updates"].tolist(), g["val_ppl"].tolist())
                   for name, g in df.groupby("model", sort=True)},
                  os.path.join(out_dir, f"table1_curves_{scale}.png"), "updates", "validation perplexity",
                  title=f"Table 1 models, {scale} scale: validation perplexity during training")
    return df


def seed_table(work):
    """Every LSTM of the run: direction, seed, best val ppl, test ppl, test BLEU at beam
    12 alone. The paper's reversal gain is read against the spread between seeds."""
    rows = []
    for path in sorted(glob.glob(os.path.join(work, "models", "*.json"))):
        name = os.path.basename(path)[:-5]
        if name == "attention":
            continue
        meta = _load(path) or {}
        direction = "reversed" if name.startswith("reversed") else "forward"
        decode = {"forward": "forward_beam12", "reversed1": "reversed_beam12"}.get(name, name + "_beam12")
        bleu = _load(os.path.join(work, "decode", decode + ".json")) or {}
        ppl = _load(os.path.join(work, "ppl", name + ".json")) or {}
        rows.append({"model": name, "direction": direction, "seed": meta.get("seed"),
                     # the lowest validation perplexity logged: the checkpoint of record
                     "best_val_ppl": min((p for _, p in validations(os.path.join(work, "logs", f"train_{name}.log"))),
                                         default=None),
                     "test_ppl": round(ppl["ppl"], 2) if "ppl" in ppl else None,
                     "test_bleu_beam12": bleu.get("bleu_tokenized"),
                     "train_wall_s": meta.get("train_wall_s"), "commit": meta.get("commit")})
    return pd.DataFrame(rows)


def reversal_verdict(seeds):
    """Lines saying whether every reversed seed beats every forward seed (BLEU and test
    perplexity), i.e. the gain exceeds the spread between seeds; computed, never typed."""
    if seeds.empty or seeds["direction"].nunique() < 2:
        return []
    lines = []
    for col, better, unit in (("test_bleu_beam12", max, "BLEU"), ("test_ppl", min, "test perplexity")):
        g = seeds.dropna(subset=[col]).groupby("direction")[col]
        if g.ngroups < 2:
            continue
        lo, hi = g.min(), g.max()
        n = g.size()
        if better is max:
            holds, gap = lo["reversed"] > hi["forward"], lo["reversed"] - hi["forward"]
        else:
            holds, gap = hi["reversed"] < lo["forward"], lo["forward"] - hi["reversed"]
        lines.append(
            f"- {unit}: forward seeds {lo['forward']:g}-{hi['forward']:g} (n={n['forward']}), "
            f"reversed seeds {lo['reversed']:g}-{hi['reversed']:g} (n={n['reversed']}): "
            + (f"every reversed seed is better than every forward seed (margin {gap:.2f})" if holds
               else "the ranges overlap or reversal is worse: reversal's gain is not shown beyond the seed spread"))
    return lines


def log_summary(work):
    """WORK's test perplexities and decodes, a line each (scripts/summarize_logs.sh)."""
    out = ["## test perplexity (fairseq-validate)"]
    for path in sorted(glob.glob(os.path.join(work, "ppl", "*.json"))):
        out.append(f"{os.path.basename(path)[:-5]}: {round(_load(path)['ppl'], 2)}")
    out.append("## decodes (tokenized cased BLEU detail)")
    for path in sorted(glob.glob(os.path.join(work, "decode", "*.json"))):
        d = _load(path)
        out.append(f"{os.path.basename(path)[:-5]}: {d['bleu_tokenized_detail']} | beam {d.get('beam')}"
                   f" | models {d.get('models')} | wall {d.get('wall_s')} s")
    return out


def beam_table(work):
    """The ensemble of 5 at beams 1, 2, 12 on valid and on test (the paper's ordering)."""
    rows = []
    for beam in (1, 2, 12):
        rows.append({"beam": beam,
                     "valid": (_load(os.path.join(work, "decode", f"valid_ens5_beam{beam}.json")) or {}).get("bleu_tokenized"),
                     "test": (_load(os.path.join(work, "decode", f"ens5_beam{beam}.json")) or {}).get("bleu_tokenized")})
    return pd.DataFrame(rows)


def build_table(work, run, decode_dir=None):
    """``decode_dir``: decodes of another test set (scripts/evaluate.sh); then the rows
    that only exist for the main test set (baseline, perplexities) are left out."""
    scale = run["scale"]
    own_test_set = decode_dir is None
    decode_dir = decode_dir or os.path.join(work, "decode")
    rows = []
    for key, name, paper, note in BLEU_ROWS:
        if key == "baseline" and not own_test_set:
            continue
        if key == "baseline":
            res = _load(os.path.join(work, "smt", "baseline_bleu.json"))
            if res is None:
                note = "pending: run bash scripts/reproduce_table2.sh --scale " + scale
        else:
            res = _load(os.path.join(decode_dir, key + ".json"))
            if res is None:
                note = "pending: decode not run"
        res = res or {}
        rows.append({
            "method": name, "metric": "BLEU", "paper": paper,
            "ours": res.get("bleu_tokenized"),
            "ours_sacrebleu_detok": res.get("sacrebleu_detok"),
            "sacrebleu_signature": res.get("sacrebleu_signature"),
            "beam": res.get("beam"),
            "models": res.get("models"),
            "decode_wall_s": res.get("wall_s"),
            "note": note,
        })
    for key, name, paper in PPL_ROWS if own_test_set else []:
        res = _load(os.path.join(work, "ppl", key + ".json"))
        rows.append({
            "method": name, "metric": "perplexity", "paper": paper,
            "ours": round(res["ppl"], 2) if res else None, "models": key,
            "note": "" if res else "pending: fairseq-validate not run",
        })
    df = pd.DataFrame(rows)
    for col in ("scale", "data", "model", "epochs", "train_wall_s", "hardware"):
        df[col] = run.get(col)
    return df


def seeds_markdown(seeds, beams):
    lines = ["## Every seed, and the beam sizes on valid", "",
             "Each LSTM of the run alone (test BLEU at beam 12, cased tokenized; perplexities "
             "per target token; best val ppl = the checkpoint kept):", "",
             frame_markdown(seeds, {"model": "Model", "direction": "Source", "seed": "Seed",
                                    "best_val_ppl": "Best val ppl", "test_ppl": "Test ppl",
                                    "test_bleu_beam12": "Test BLEU, beam 12",
                                    "train_wall_s": "Training wall s", "commit": "Trained at"}),
             "", "Reversal against the spread between seeds:", ""]
    lines += reversal_verdict(seeds) or ["- not computed: needs forward and reversed seeds"]
    if beams[["valid", "test"]].notna().any().any():
        lines += ["", "Ensemble of 5 reversed LSTMs by beam size (cased tokenized BLEU):", "",
                  frame_markdown(beams, {"beam": "Beam", "valid": "Valid", "test": "Test"})]
    return "\n".join(lines) + "\n"


def to_markdown(df, run):
    shown = frame_markdown(df, {
        "method": "Method", "metric": "Metric", "paper": "Paper (WMT'14, 12M pairs)",
        "ours": f"Ours ({run.get('scale', '?')})", "ours_sacrebleu_detok": "Ours, detok. sacreBLEU",
        "note": "Note"})
    command = run["command"] or f"bash scripts/reproduce_table1.sh --scale {run['scale']}"
    return "\n".join(report_head("Table 1: the paper's rows, reproduced", f"`{command}`", [
        f"- Scale: **{run.get('scale', '?')}**; data: {run.get('data', '?')}",
        f"- Test set: {run.get('test_set') or 'the prepared data set test split'}",
        f"- Models: {run.get('model', '?')}; training: {run.get('recipe', '?')}",
        f"- Epochs: {run.get('epochs', '?')}; training wall time summed over the models (trained side by side on CPU, a thread each): {run.get('train_wall_s', '?')} s; "
        f"hardware: {run.get('hardware', '?')}",
        f"- Precision of the LSTMs' training: {run.get('precision') or 'as the recipe says'}",
        f"- Code: models trained at {run.get('trained_at') or '?'}; this table written at {run.get('commit', '?')}",
        metric_description(df["sacrebleu_signature"]),
        f"- Decoding: {run.get('decoding', '?')}"]) + [shown, ""])


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.reporting.table1", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True)
    p.add_argument("--log-summary", action="store_true",
                   help="print WORK's test perplexities and decodes instead (scripts/summarize_logs.sh)")
    p.add_argument("--scale")
    p.add_argument("--out", help="directory for table1.csv and table1.md")
    p.add_argument("--model", default="?", help="model description for the table")
    p.add_argument("--recipe", default="?", help="training recipe description")
    p.add_argument("--epochs", default="?")
    p.add_argument("--decoding", default="?")
    p.add_argument("--notes", default=None,
                   help="the hand-written reading of the table (markdown); table1.md links to it "
                        "where it exists, and never copies it")
    p.add_argument("--decode-dir", default=None, help="decodes of another test set (evaluate.sh)")
    p.add_argument("--test-set", default=None, help="its description")
    p.add_argument("--command", default=None, help="the command line that produced the run")
    p.add_argument("--precision", default=None, help="the LSTMs' training precision and why")
    args = p.parse_args(argv)
    if args.log_summary:
        print("\n".join(log_summary(args.work)))
        return 0
    if not (args.scale and args.out):
        p.error("the following arguments are required: --scale, --out")
    from sutskever_plugin.machine import commit, describe
    # what produced the numbers: the options, data, training time, hardware, code
    walls = [(_load(f) or {}).get("train_wall_s", 0) for f in sorted(glob.glob(os.path.join(args.work, "models", "*.json")))]
    run = dict(vars(args), data=describe_data(os.path.join(args.work, "data")), train_wall_s=sum(walls),
               hardware=describe(), commit=commit())
    seeds = seed_table(args.work) if args.decode_dir is None else pd.DataFrame()
    run["trained_at"] = ", ".join(sorted(set(seeds["commit"].dropna()))) if not seeds.empty and "commit" in seeds else None
    df = build_table(args.work, run, args.decode_dir)
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "table1.csv"), df)
    md = to_markdown(df, run)
    if args.decode_dir is None and learning_curves(args.work, args.out, args.scale) is not None:
        md += (f"\nValidation perplexity of every training by update: [`table1_curves_{args.scale}.png`]"
               f"(table1_curves_{args.scale}.png) ([csv](table1_curves_{args.scale}.csv)).\n")
    if not seeds.empty:
        write_csv(os.path.join(args.out, "table1_seeds.csv"), seeds)
        md += "\n" + seeds_markdown(seeds, beam_table(args.work))
    if args.notes and os.path.exists(args.notes):
        rel = os.path.relpath(args.notes, args.out).replace(os.sep, "/")
        md += f"\nThe hand-written reading of this table against the paper: [`{rel}`]({rel}).\n"
    write_text(os.path.join(args.out, "table1.md"), md)
    done = df["ours"].notna().sum()
    print(f"| table1: {done}/{len(df)} rows filled -> {args.out}/table1.md, table1.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
