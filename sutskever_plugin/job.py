"""The Table 1 job's plan (scripts/reproduce_table1.sh): what follows from a scale's recipe
and this machine's cores, printed as shell assignments the script evaluates::

    eval "$(python sutskever_plugin/job.py plan --scale small --epochs 7 --batch 128 ...)"

and the small pieces of the job the script runs, each one command: a free port for the
CPU ranks of a data-parallel training, and a finished model's record (models/NAME.json).
Run as a script: it imports nothing of the plugin, so it starts in milliseconds.
"""
import argparse
import json
import math
import os
import shlex
import socket
import sys
from typing import Dict, List, Optional, Union

if __package__:
    from .steps import atomic_write
else:  # run as a file, as the scripts do: steps.py beside it, without the plugin's imports
    from steps import atomic_write

# training pairs of each scale, for a dry run before the data exist
NOMINAL_TRAIN = {"tiny": 2000, "small": 29000, "paper": 12000000}


def count_lines(path: str) -> int:
    """Lines of a file as ``wc -l`` counts them (newlines)."""
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


def updates_for_epochs(num_sentences: int, batch_size: int, epochs: float) -> int:
    """--max-update for a fractional number of epochs (the paper's 7.5) with batches of
    ``batch_size`` sentences: fairseq makes ceil(N / batch_size) batches per epoch."""
    return math.ceil(epochs * math.ceil(num_sentences / batch_size))


def models(forward_seeds: int) -> List[List[str]]:
    """[NAME, TASK, SEED] of every training, in the order they start: the attention
    analogue first (its epoch is the slowest: fairseq's decoder loops over time steps in
    Python), the forward seeds, the five reversed seeds (the paper's ensemble members)."""
    out = [["attention", "translation", "1"], ["forward", "translation", "1"]]
    out += [[f"forward{s}", "translation", str(s)] for s in range(2, forward_seeds + 1)]
    out += [[f"reversed{s}", "translation_reversed", str(s)] for s in range(1, 6)]
    return out


def plan(scale: str, epochs: str, batch: int, ntrain: int, cores: int, forward_seeds: int,
         att_epochs: Optional[str] = None, halve_after: str = "end", halve_every: str = "0.5",
         warmup: int = 0, max_update: Optional[int] = None, workers: int = 1,
         decode_jobs: Optional[int] = None) -> Dict[str, Union[str, List[str]]]:
    """The job's derived settings (names as the script uses them)."""
    def updates(e: str) -> int:
        return updates_for_epochs(ntrain, batch, float(e))

    p: Dict[str, Union[str, List[str]]] = {}
    n = updates(epochs)
    p["MAX_UPDATE"], p["SCHEDULE"] = str(n), f"{epochs} epochs ({n} updates)"
    if max_update is not None:
        p["MAX_UPDATE"] = str(max_update)
        p["SCHEDULE"] = f"{max_update} updates (--max-update; the recipe's {epochs} epochs are {n})"
    # the attention analogue trains as long as the LSTMs unless the recipe says (small: the
    # budget's 3 epochs, scripts/recipe_small.sh)
    att_epochs = att_epochs or epochs
    p["ATT_EPOCHS"], p["ATT_MAX_UPDATE"], p["ATT_SCHEDULE"] = att_epochs, p["MAX_UPDATE"], ""
    if att_epochs != epochs and max_update is None:
        p["ATT_MAX_UPDATE"] = str(updates(att_epochs))
        p["ATT_SCHEDULE"] = (f", trained {att_epochs} epochs ({p['ATT_MAX_UPDATE']} updates;"
                             f" the LSTMs {epochs})")
    halve_from = epochs if halve_after == "end" else halve_after
    p["HALVE_FROM"] = halve_from
    if float(halve_from) >= float(epochs):
        lr = f"lr fixed (no halving within the {epochs} epochs)"
    else:
        lr = f"lr halved every {halve_every} epoch(s) after {halve_from}"
    if warmup:
        lr = f"lr warmed up linearly over {warmup} updates, then {lr}"
    p["LR_SCHEDULE"] = lr
    specs = models(forward_seeds)
    p["MODELS"] = [" ".join(s) for s in specs]
    p["PLAN"] = ",".join(f"{s[0]}:{att_epochs if s[0] == 'attention' else epochs}" for s in specs)
    # Tiny and small: a pool of as many trainings as there are cores, one thread each (in
    # total faster than one model on all cores for these small matrices, and the same
    # numbers whatever the cores: a matmul's result can depend on its threads); the paper
    # scale trains one model on all its GPUs (or CPU workers).
    if scale == "paper":
        p["JOBS"], p["THREADS"] = "1", str(max(1, cores // workers))
    else:
        p["JOBS"], p["THREADS"] = str(min(cores, len(specs))), "1"
    # the test perplexities and decodes after the trainings: as many at a time as cores,
    # one thread each; paper: one, or --decode-jobs, the cores shared among them
    p["DECODE_POOL"] = str(decode_jobs or (1 if scale == "paper" else cores))
    p["DECODE_THREADS"] = str(max(1, cores // int(p["DECODE_POOL"])))
    return p


def shell(assignments: Dict[str, Union[str, List[str]]]) -> str:
    """Bash assignments of ``assignments``, quoted (lists become arrays)."""
    lines = []
    for name, value in assignments.items():
        if isinstance(value, list):
            lines.append(f"{name}=({' '.join(shlex.quote(v) for v in value)})")
        else:
            lines.append(f"{name}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the rendezvous of a training's CPU ranks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record_model(out: str, train_wall_s: int, commit: str, seed: int, task: str):
    """models/NAME.json: how long the model trained, the code that trained it, its seed
    and task (read by the table's notes and the analyses)."""
    atomic_write(out, json.dumps({"train_wall_s": train_wall_s, "commit": commit, "seed": seed,
                                  "task": task}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="verb", required=True)
    pl = sub.add_parser("plan", help="the job's derived settings as shell assignments")
    pl.add_argument("--scale", required=True, choices=sorted(NOMINAL_TRAIN))
    pl.add_argument("--epochs", required=True)
    pl.add_argument("--att-epochs")
    pl.add_argument("--batch", type=int, required=True)
    pl.add_argument("--train-file", help="the tokenised training source (its lines; else the scale's nominal pairs)")
    pl.add_argument("--cores", type=int, required=True)
    pl.add_argument("--workers", type=int, default=1)
    pl.add_argument("--forward-seeds", type=int, required=True)
    pl.add_argument("--halve-after", default="end")
    pl.add_argument("--halve-every", default="0.5")
    pl.add_argument("--warmup", type=int, default=0)
    pl.add_argument("--max-update", type=int)
    pl.add_argument("--decode-jobs", type=int)
    sub.add_parser("free-port", help="a free TCP port on 127.0.0.1")
    rec = sub.add_parser("record-model", help="write models/NAME.json")
    rec.add_argument("--out", required=True)
    rec.add_argument("--train-wall-s", type=int, required=True)
    rec.add_argument("--commit", required=True)
    rec.add_argument("--seed", type=int, required=True)
    rec.add_argument("--task", required=True)
    a = p.parse_args(argv)
    if a.verb == "plan":
        train = a.train_file
        ntrain = count_lines(train) if train and os.path.isfile(train) else NOMINAL_TRAIN[a.scale]
        sys.stdout.write(shell(plan(a.scale, a.epochs, a.batch, ntrain, a.cores, a.forward_seeds,
                                    a.att_epochs, a.halve_after, a.halve_every, a.warmup,
                                    a.max_update, a.workers, a.decode_jobs)))
    elif a.verb == "free-port":
        print(free_port())
    else:
        record_model(a.out, a.train_wall_s, a.commit, a.seed, a.task)


if __name__ == "__main__":
    main()
