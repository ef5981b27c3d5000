"""The Python steps of scripts/tune_small.sh (small-scale recipe tuning on the validation
set; its header gives the options): ``train`` runs fairseq-train in this process, logging
its CPU seconds; ``record``, ``record-probe`` and ``record-ensemble`` append a row to
OUT_DIR's candidates.csv, probes.csv or ensembles.csv; ``write-readme`` (also run by
``record`` and ``record-ensemble``) rewrites OUT_DIR/README.md from the CSVs, linking
OUT_DIR/notes.md, the hand-written reading.
"""
import argparse
import datetime
import json
import math
import os
import re
import sys
import time

from sutskever_plugin.scoring.fairseq_output import validations
from sutskever_plugin.machine import commit as git_commit
from sutskever_plugin.machine import describe as hardware
from sutskever_plugin.tables import (append_csv, read_csv_rows, report_head, table_head,
                                               table_row)
from sutskever_plugin.data.textio import write_text


# ---- train: fairseq-train with CPU accounting ----------------------------------------
def train(cpu_jsonl, fairseq_args):
    """fairseq-train with the CPU seconds of this process (user + system, getrusage) logged
    to CPU_JSONL every 50 updates, at every epoch's start and around every validation. CPU
    time, not wall time: the machine is shared, and the main job runs its trainings as
    one-thread jobs, so CPU seconds are what a recipe spends of its budget."""
    from sutskever_plugin.benchmark.in_process_train import run_fairseq_train
    from sutskever_plugin.benchmark.timing import cpu_seconds

    out = open(cpu_jsonl, "a", buffering=1)

    def log(**kw):
        kw["cpu_s"] = round(cpu_seconds(), 2)
        kw["wall"] = round(time.time(), 2)
        out.write(json.dumps(kw) + "\n")

    def begin_epoch_logged(begin_epoch, self, epoch):
        # the pairs of the data it trains on: an epoch's updates at a probe's batch size
        log(event="epoch_start", epoch=epoch, updates=self.get_num_updates(),
            train_pairs=len(self.task.dataset(self.cfg.dataset.train_subset)))
        return begin_epoch(self, epoch)

    def train_step_logged(train_step, self, *a, **kw):
        result = train_step(self, *a, **kw)
        n = self.get_num_updates()
        if n % 50 == 0:
            log(event="update", updates=n)
        return result

    def validate_logged(validate, cfg, trainer, task, epoch_itr, subsets):
        log(event="valid_start", epoch=epoch_itr.epoch, updates=trainer.get_num_updates())
        result = validate(cfg, trainer, task, epoch_itr, subsets)
        log(event="valid_end", epoch=epoch_itr.epoch, updates=trainer.get_num_updates())
        return result

    # the code that trains is the checkout's at this moment, not at the row's recording
    log(event="start", commit=git_commit())
    try:
        run_fairseq_train(fairseq_args, train_step=train_step_logged,
                          begin_epoch=begin_epoch_logged, validate=validate_logged)
    finally:
        log(event="end")


# ---- record: one CSV row per candidate, README from the CSV ----------------------------
def events_of(cpu_jsonl):
    with open(cpu_jsonl) as f:
        return [json.loads(x) for x in f if x.strip()]


def parse_cpu(path):
    """Train CPU s per epoch (epoch start to its validation) and valid CPU s per epoch."""
    events = events_of(path)
    train, valid, start = [], [], None
    for e in events:
        if e["event"] == "epoch_start":
            start = e["cpu_s"]
        elif e["event"] == "valid_start" and start is not None:
            train.append(e["cpu_s"] - start)
            vstart = e["cpu_s"]
        elif e["event"] == "valid_end":
            valid.append(e["cpu_s"] - vstart)
    total = events[-1]["cpu_s"] if events else 0.0
    return train, valid, total


def trained_at(cpu_jsonl):
    """The commit the run started from (its start event)."""
    return next(e["commit"] for e in events_of(cpu_jsonl) if e["event"] == "start")


def record(a):
    curve = validations(a.train_log)
    ppl, updates = [p for _, p in curve], (curve[-1][0] if curve else 0)
    train_s, valid_s, total = parse_cpu(a.cpu_jsonl)
    bleu = json.load(open(a.bleu_json))
    mean = lambda xs: round(sum(xs) / len(xs), 1) if xs else ""
    row = {
        "name": a.name, "flags": a.flags, "epochs": a.epochs, "updates": updates,
        "val_ppl_per_epoch": " ".join(f"{p:.2f}" for p in ppl),
        "best_val_ppl": f"{min(ppl):.2f}" if ppl else "",
        "valid_bleu_beam12": f"{bleu['bleu_tokenized']:.2f}",
        "valid_sacrebleu_beam12": f"{bleu['sacrebleu_detok']:.2f}",
        "valid_len_ratio": _len_ratio(bleu),
        "train_cpu_s_per_epoch": mean(train_s), "valid_cpu_s_per_epoch": mean(valid_s),
        "cpu_s_total": round(total, 1), "decode_cpu_s": a.decode_cpu_s,
        "bf16": "--autocast-bf16" in a.flags.split(),
        "mm_bf16_over_fp32": _mm_ratio(a.mm_json), "hardware": hardware(),
        "commit": trained_at(a.cpu_jsonl),
        "utc": _utc_now(),
    }
    append_csv(os.path.join(a.out_dir, "candidates.csv"), row, list(row))
    write_readme(a.out_dir)
    print(f"| {a.name}: best val ppl {row['best_val_ppl']}, valid BLEU {row['valid_bleu_beam12']}, "
          f"{row['train_cpu_s_per_epoch']} CPU s/epoch train + {row['valid_cpu_s_per_epoch']} valid")


def record_probe(a):
    ev = events_of(a.cpu_jsonl)
    up = [e for e in ev if e["event"] == "update"]
    # steady state: from update 50 (after allocator and autocast warm-up) to the last logged one
    first, last = up[0], up[-1]
    per = (last["cpu_s"] - first["cpu_s"]) / (last["updates"] - first["updates"])
    fl = a.flags.split()
    bsz = int(fl[fl.index("--batch-size") + 1]) if "--batch-size" in fl else 0
    pairs = next((e["train_pairs"] for e in ev if "train_pairs" in e), 0)
    upe = math.ceil(pairs / bsz) if bsz and pairs else 0
    row = dict(name=a.name, flags=a.flags, updates_measured=last["updates"] - first["updates"],
               cpu_s_per_update=round(per, 4), updates_per_epoch=upe,
               train_cpu_s_per_epoch=round(per * upe, 1) if upe else "",
               bf16="--autocast-bf16" in fl,
               mm_bf16_over_fp32=_mm_ratio(a.mm_json),
               hardware=hardware(), commit=trained_at(a.cpu_jsonl))
    append_csv(os.path.join(a.out_dir, "probes.csv"), row, list(row))
    print(f"| probe {a.name}: {per:.4f} CPU s/update, {row['train_cpu_s_per_epoch']} CPU s/epoch of {upe} updates")


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")


def record_ensemble(a):
    bleu = {int(beam): json.load(open(path)) for beam, path in a.beam_json}
    ppl = [min((p for _, p in validations(log)), default=float("nan")) for _, log in a.member]
    row = {
        "name": a.name, "direction": a.direction, "members": " ".join(m for m, _ in a.member),
        "members_best_val_ppl": " ".join(f"{p:.2f}" for p in ppl),
        **{f"valid_bleu_beam{b}": f"{bleu[b]['bleu_tokenized']:.2f}" for b in (1, 2, 12)},
        "valid_sacrebleu_beam12": f"{bleu[12]['sacrebleu_detok']:.2f}",
        "valid_len_ratio_beam12": _len_ratio(bleu[12]),
        "hardware": hardware(), "commit": git_commit(), "utc": _utc_now(),
    }
    append_csv(os.path.join(a.out_dir, "ensembles.csv"), row, list(row))
    write_readme(a.out_dir)
    print(f"| {a.name}: valid BLEU beam 1 / 2 / 12: {row['valid_bleu_beam1']} / "
          f"{row['valid_bleu_beam2']} / {row['valid_bleu_beam12']}")


def _mm_ratio(mm_json):
    """This CPU's bf16/fp32 matmul rate, as bf16_choice measured it for the run."""
    mm = json.load(open(mm_json))
    return f"{mm['bf16_over_fp32_512']}x (512), {mm['bf16_over_fp32_2048']}x (2048)"


def _len_ratio(bleu):
    """Output/reference length ratio from sacreBLEU's detail line ("... ratio = 0.95 ...")."""
    m = re.search(r"ratio = ([0-9.]+)", bleu.get("bleu_tokenized_detail", ""))
    return m.group(1) if m else ""


def _rows(csv_path, drop=()):
    """The markdown rows of a CSV, less its columns ``drop`` (the flags as code)."""
    return [table_row(*(f"`{v}`" if k == "flags" else v for k, v in r.items() if k not in drop))
            for r in read_csv_rows(csv_path)]


def write_readme(out_dir):
    if not os.path.exists(os.path.join(out_dir, "candidates.csv")):
        sys.exit(f"tune_small.py: {out_dir}/candidates.csv: no such file (nothing to write from)")
    lines = report_head(
        "Small-scale recipe tuning (validation set only)",
        "`bash scripts/tune_small.sh` (one run per row, appended to `candidates.csv`; this file "
        "is rewritten from the CSV on every run)", [
            "- Scale: **small**: Multi30k En-Fr (29,000 training pairs), source reversed "
            "(`--task translation_reversed`) unless a row's flags begin with `--task translation` "
            "(`tune_small.sh --direction forward`: source as given), "
            "`python -m sutskever_plugin.data.prepare --dataset multi30k --scale small`; every number is on **valid** (1,014 sentences), none on test.",
            "- BLEU: the project's cased BLEU on Moses-tokenized text (`sutskever_plugin.scoring.score`), "
            "best checkpoint on valid loss, beam 12, no length normalisation (`--unnormalized`), batch 64.",
            "- CPU s: user + system seconds of the training process (getrusage), one thread "
            "(`OMP_NUM_THREADS=1`, pinned to one core), so they do not depend on the machine's other users; "
            "train = an epoch's updates, valid = the validation after it.",
            "- bf16: `--autocast-bf16` in the row's flags; the mm ratio is this CPU's bf16/fp32 `torch.mm` rate "
            "measured by the same run (one thread, n x n, best 0.2 s window)."])
    lines += table_head("candidate", "flags", "epochs", "val ppl per epoch", "best val ppl", "valid BLEU (b12)",
                        "len ratio", "train CPU s/epoch", "valid CPU s/epoch", "total CPU s", "bf16",
                        "bf16/fp32 mm", "hardware", "commit", "UTC", right=(2, 4, 5, 6, 7, 8, 9))
    lines += _rows(os.path.join(out_dir, "candidates.csv"),
                   ("updates", "valid_sacrebleu_beam12", "decode_cpu_s"))
    probes = os.path.join(out_dir, "probes.csv")
    if os.path.exists(probes):
        lines += ["", "## Speed probes", "",
                  "`bash scripts/tune_small.sh --probe-updates U`: U updates at the batch size of its flags, no validation; "
                  "CPU s per update from update 50 on, times the updates of one epoch.", "",
                  *table_head("probe", "flags", "updates timed", "CPU s/update", "train CPU s/epoch", "bf16",
                              "bf16/fp32 mm", "hardware", "commit", right=(2, 3, 4))]
        lines += _rows(probes, ("updates_per_epoch",))
    ensembles = os.path.join(out_dir, "ensembles.csv")
    if os.path.exists(ensembles):
        lines += ["", "## Ensembles of candidates", "",
                  "`bash scripts/tune_small.sh --name N --ensemble A,B,...`: the candidates' best checkpoints "
                  "as one fairseq ensemble, decoded on valid at beams 1, 2 and 12 without length "
                  "normalisation, batch 64 (as `reproduce_table1.sh` decodes Table 1's ensemble on valid).", "",
                  *table_head("ensemble", "direction", "members", "members' best val ppl", "valid BLEU b1", "b2",
                              "b12", "detok. sacreBLEU b12", "len ratio b12", "hardware", "commit", "UTC",
                              right=(4, 5, 6, 7, 8))]
        lines += _rows(ensembles)
    if os.path.exists(os.path.join(out_dir, "notes.md")):
        lines += ["", "The reading of these rows: [`notes.md`](notes.md)."]
    write_text(os.path.join(out_dir, "README.md"), "\n".join(lines) + "\n")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "train":
        if len(sys.argv) < 4 or sys.argv[3] != "--":
            sys.exit("usage: tune_small.py train CPU_JSONL -- <fairseq-train arguments>")
        return train(sys.argv[2], sys.argv[4:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for opt in ("out-dir", "name", "flags", "train-log", "cpu-jsonl", "bleu-json", "mm-json", "epochs"):
        r.add_argument("--" + opt, required=True)
    r.add_argument("--decode-cpu-s", default="")
    pr = sub.add_parser("record-probe")
    for opt in ("out-dir", "name", "flags", "cpu-jsonl", "mm-json"):
        pr.add_argument("--" + opt, required=True)
    e = sub.add_parser("record-ensemble")
    for opt in ("out-dir", "name", "direction"):
        e.add_argument("--" + opt, required=True)
    e.add_argument("--member", nargs=2, action="append", required=True, metavar=("NAME", "TRAIN_LOG"))
    e.add_argument("--beam-json", nargs=2, action="append", required=True, metavar=("BEAM", "BLEU_JSON"))
    w = sub.add_parser("write-readme")
    w.add_argument("--out-dir", required=True)
    a = p.parse_args()
    {"record": record, "record-probe": record_probe, "record-ensemble": record_ensemble,
     "write-readme": lambda a: write_readme(a.out_dir)}[a.cmd](a)


if __name__ == "__main__":
    main()
