"""The main job's progress: which training, which epoch, about how long is left.

Each training's fairseq output is piped through this file (``scripts/reproduce_table1.sh``
runs it as a script: it imports nothing of the plugin, so it starts without torch)::

    fairseq-train ... | python sutskever_plugin/progress.py --model reversed2 --epochs 7 \\
        --state-dir WORK/logs/progress --plan attention:3,forward:7,reversed1:7,... --jobs 2 \\
        --models-dir WORK/models

It passes fairseq's progress lines through, prefixed with the model's name, and at the
end of every epoch prints one line for the job: the model's epoch, its seconds per epoch
as measured here, and the trainings' time left. Each training writes its own state
(``STATE_DIR/MODEL.json``: epochs done, seconds an epoch) and reads the others', so the
estimate covers the whole pool: the epochs left of every training of the plan, each at
its own measured pace (a training not yet measured at the mean pace of those that are),
shared out among the trainings that can run at once.
"""
import argparse
import json
import os
import re
import sys
import time
from typing import Dict, Optional

if __package__:
    from .steps import atomic_write
else:  # run as a file, as the script does: steps.py beside it, without the plugin's imports
    from steps import atomic_write

# fairseq's lines worth showing: progress within an epoch, validations, the end
SHOWN = re.compile(r"train_inner|valid on|done training")
PREFIX = re.compile(r"^.*\| INFO \| ")
# fairseq-train's own end of an epoch (validations within an epoch name it too)
EPOCH_END = re.compile(r"end of epoch (\d+) \(average epoch stats below\)")


def parse_plan(text: str) -> Dict[str, float]:
    """'attention:3,forward:7' -> {'attention': 3.0, 'forward': 7.0}"""
    plan = {}
    for item in filter(None, text.split(",")):
        name, _, epochs = item.partition(":")
        plan[name] = float(epochs)
    return plan


def load_states(state_dir: str, plan: Dict[str, float], models_dir: Optional[str] = None) -> Dict[str, dict]:
    """Every training's state; a model already in MODELS_DIR (trained by an earlier run of
    the job) has all its epochs done."""
    states = {}
    if os.path.isdir(state_dir):
        for f in os.listdir(state_dir):
            if f.endswith(".json"):
                try:
                    with open(os.path.join(state_dir, f)) as fh:
                        states[f[:-5]] = json.load(fh)
                except (OSError, ValueError):
                    pass   # a state being rewritten: the next epoch's line reads it
    for name, epochs in plan.items():
        if models_dir and os.path.exists(os.path.join(models_dir, f"{name}.pt")):
            states[name] = dict(states.get(name, {}), epochs_done=epochs)
    return states


def seconds_left(plan: Dict[str, float], states: Dict[str, dict], jobs: int) -> Optional[float]:
    """The trainings' wall seconds left: every model's epochs left at its own pace (the
    mean measured pace where it has none yet), over the trainings that run at once.
    None until some training has finished an epoch here."""
    paces = [s["s_per_epoch"] for s in states.values() if s.get("s_per_epoch")]
    if not paces:
        return None
    mean = sum(paces) / len(paces)
    work, unfinished = 0.0, 0
    for name, epochs in plan.items():
        state = states.get(name, {})
        left = max(0.0, epochs - state.get("epochs_done", 0))
        if left > 0:
            unfinished += 1
            work += left * (state.get("s_per_epoch") or mean)
    if unfinished == 0:
        return 0.0
    return work / min(jobs, unfinished)


def minutes(seconds: float) -> str:
    return f"{max(1, round(seconds / 60))} min"


class Progress:
    def __init__(self, model: str, epochs: float, state_dir: str, plan: Dict[str, float], jobs: int,
                 models_dir: Optional[str] = None, tag: str = "table1", clock=time.monotonic):
        self.model, self.epochs, self.state_dir, self.models_dir = model, epochs, state_dir, models_dir
        self.plan, self.jobs, self.tag, self.clock = plan, jobs, tag, clock
        self.start = clock()
        self.first_epoch = None   # the first epoch this run ends (a resumed training starts later)

    def line(self, text: str) -> Optional[str]:
        """What to print for one line of fairseq's output (None: nothing)."""
        m = EPOCH_END.search(text)
        if m:
            return self.epoch_done(int(m.group(1)))
        if not SHOWN.search(text):
            return None
        return PREFIX.sub(f"  [{self.model}] ", text.rstrip("\n"))

    def epoch_done(self, epoch: int) -> str:
        if self.first_epoch is None:
            self.first_epoch = epoch
        pace = (self.clock() - self.start) / (epoch - self.first_epoch + 1)
        atomic_write(os.path.join(self.state_dir, f"{self.model}.json"),
                     json.dumps({"epochs_done": epoch, "s_per_epoch": pace}))
        states = load_states(self.state_dir, self.plan, self.models_dir)
        done = sum(min(s.get("epochs_done", 0), self.plan.get(n, 0)) for n, s in states.items())
        total = sum(self.plan.values())
        out = (f"[{self.tag}] progress: {self.model} epoch {epoch}/{self.epochs:g} ({pace:.0f} s an epoch here); "
               f"trainings {done:g} of {total:g} epochs done")
        left = seconds_left(self.plan, states, self.jobs)
        if left is not None:
            out += f", about {minutes(left)} left" if left > 0 else ", every epoch of the plan done"
        return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--epochs", type=float, required=True, help="the epochs this model trains")
    p.add_argument("--state-dir", required=True, help="where every training of the job keeps its state")
    p.add_argument("--plan", required=True, help="NAME:EPOCHS,... every training of the job")
    p.add_argument("--jobs", type=int, required=True, help="trainings run at once")
    p.add_argument("--models-dir", help="where finished trainings leave NAME.pt")
    p.add_argument("--tag", default="table1")
    a = p.parse_args(argv)
    progress = Progress(a.model, a.epochs, a.state_dir, parse_plan(a.plan), a.jobs, a.models_dir, a.tag)
    for text in sys.stdin:
        shown = progress.line(text)
        if shown is not None:
            print(shown, flush=True)


if __name__ == "__main__":
    main()
