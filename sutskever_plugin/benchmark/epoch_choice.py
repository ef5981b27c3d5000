"""How many epochs the small scale's main job trains on this CPU: decided by a short
measurement, at run time, so that the job spends its two hours on either kind of machine.

    python -m sutskever_plugin.benchmark.epoch_choice --out FILE [--budget-min 120]
        [--choices 7,10,14] [--lstms 6] [--att-epochs 3] -- FAIRSEQ-TRAIN ARGUMENTS
    python -m sutskever_plugin.benchmark.epoch_choice --describe FILE

The recipe's learning rate is fixed over the whole run (scripts/recipe_small.sh), so a
shorter training is the longer one's beginning and every epoch more lowers the validation
perplexity (results/tuning_small/). What the budget buys differs by machine: an LSTM
epoch costs an AMD EPYC without AMX 182-186 CPU s, an Intel Xeon with AMX 72-80
(results/tuning_small/, rows amd_* and *_b098_e10*). On the AMD kind two hours hold 7
epochs (results/job_time_small_2546855.md: 108.1 min), on the Intel kind 7 epochs leave about half
of them unused.

The measurement: the first LSTM's own training command (its data, recipe and precision),
run for WARMUP + TIMED updates in this process without validation or checkpoints; its CPU
seconds (user + system, getrusage) over the TIMED updates per source + target token,
times the tokens of one epoch of the training data: the CPU seconds of one epoch (a ratio
over tokens, so the sampled batches' lengths do not bias it). Run it as the trainings run
(one thread, MALLOC_MMAP_MAX_=0) with nothing else on the machine.

The prediction, per candidate E: job seconds = epoch CPU s x (WALL_PER_CPU_S x (lstms x E
+ ATT_EPOCH_COST x att_epochs) + REST_PER_EPOCH_CPU_S); the largest E of --choices whose
prediction fits --budget-min is chosen (the smallest if none does). The constants come
from the main job's run on the AMD kind at commit 2546855 (results/job_time_small_2546855.md:
5,810 s from the first training's start to the last one's end for 6 LSTMs x 7 epochs and
the attention analogue's 3; 674 s for everything else) over the epoch CPU s on that kind (the
constants below say how it was measured): two trainings share the two
cores, and a training's wall time holds its validations, checkpoints and start-up beside
the updates the probe times. The attention analogue's epoch costs 1.4 LSTM epochs
(fairseq's decoder loops over time steps in Python; results/tuning_small/probes.csv).
The candidates are few and far apart, so that a noisy measurement does not move a
machine across a boundary: the AMD kind's measurement (this probe: 206.5-222.3 CPU s per
epoch at different hours, results/epoch_choice_small/ and the header of results/table1.md;
whole epochs: 182-186) lies well above the cost at which 10 epochs fit (about 154), the
Intel kind's (72-80 by whole epochs) well below the one at which 14 do (about 114; 20
would need about 84, too close to choose).

Prints (and writes to --out) one JSON line: the measurement, each candidate's prediction,
the choice, the machine and the commit.
"""
import argparse
import sys
import tempfile

from sutskever_plugin.benchmark.choice_cli import choice_parser, run_choice
from sutskever_plugin.errors import ConfigError

WARMUP, TIMED = 10, 80
ATT_EPOCH_COST = 1.4
# calibration on the AMD kind (module docstring): 5,810 s / (46.2 LSTM epochs x 187 CPU s)
# and 674 s / 187 CPU s. 187: an epoch's cost on that kind the day of that run, by whole
# epochs (results/tuning_small/, rows amd_*: 182.2-186.2 train + 4.8-4.9 valid CPU s). The
# probe measured more at later hours of that day (206.5-222.3, results/epoch_choice_small/),
# as the machine's speed moved: its prediction follows the machine of the moment.
WALL_PER_CPU_S = 0.6725
REST_PER_EPOCH_CPU_S = 3.60


def measure(fairseq_args, warmup=WARMUP, timed=TIMED):
    """CPU seconds of one training epoch of FAIRSEQ_ARGS (a fairseq-train command line
    without the program name), measured over TIMED updates after WARMUP."""
    from sutskever_plugin.benchmark.in_process_train import run_fairseq_train
    from sutskever_plugin.benchmark.timing import cpu_seconds

    marks, epoch_tokens = [], []

    def timed_step(train_step, self, samples, *a, **kw):
        if not epoch_tokens:
            data = self.task.dataset("train")
            epoch_tokens.append(int(data.src_sizes.sum()) + int(data.tgt_sizes.sum()))
        tokens = sum(int(s["net_input"]["src_lengths"].sum()) + int(s["ntokens"])
                     for s in samples if s)
        result = train_step(self, samples, *a, **kw)
        marks.append((cpu_seconds(), tokens))
        return result

    with tempfile.TemporaryDirectory() as save_dir:
        run_fairseq_train([*fairseq_args, "--max-update", str(warmup + timed), "--disable-validation",
                           "--no-save", "--save-dir", save_dir], train_step=timed_step)
    if len(marks) < warmup + timed:
        # the command's own --max-epoch or --stop-time-hours came first (--max-update is ours)
        raise ConfigError(f"the training stopped after {len(marks)} updates, {warmup + timed} "
                          "were asked for: give the probe a training command without an "
                          "earlier stop (--max-epoch, --stop-time-hours)")
    cpu = marks[warmup + timed - 1][0] - marks[warmup - 1][0]
    tokens = sum(t for _, t in marks[warmup:warmup + timed])
    return {"updates_timed": timed, "cpu_s_timed": round(cpu, 2), "tokens_timed": tokens,
            "epoch_tokens": epoch_tokens[0], "epoch_cpu_s": round(cpu / tokens * epoch_tokens[0], 1)}


def predicted_job_s(epoch_cpu_s, epochs, lstms, att_epochs):
    return epoch_cpu_s * (WALL_PER_CPU_S * (lstms * epochs + ATT_EPOCH_COST * att_epochs)
                          + REST_PER_EPOCH_CPU_S)


def choose(epoch_cpu_s, choices, lstms, att_epochs, budget_min):
    """The largest of CHOICES whose predicted job time fits BUDGET_MIN (else the smallest),
    and every candidate's prediction in minutes."""
    pred = {e: round(predicted_job_s(epoch_cpu_s, e, lstms, att_epochs) / 60, 1) for e in choices}
    fits = [e for e in choices if pred[e] <= budget_min]
    return (max(fits) if fits else min(choices)), pred


def describe(res):
    """The header's words after the epochs: how they were chosen, from what measurement."""
    pred = ", ".join(f"{e}: {m} min" for e, m in res["predicted_job_min"].items())
    return (f"(chosen at run time for the {res['budget_min']:g}-min budget: "
            f"an LSTM epoch measured {res['epoch_cpu_s']} CPU s on this CPU, "
            f"{res['updates_timed']} updates timed; predicted job time {pred})")


def _choices(text):
    try:
        out = sorted({int(x) for x in text.replace(",", " ").split()})
    except ValueError:
        out = []
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"--choices must list positive integers (got '{text}')")
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    fairseq_args = []
    if "--" in argv:
        i = argv.index("--")
        argv, fairseq_args = argv[:i], argv[i + 1:]
    p = choice_parser("python -m sutskever_plugin.benchmark.epoch_choice", __doc__)
    p.add_argument("--budget-min", type=float, default=120.0)
    p.add_argument("--choices", type=_choices, default=[7, 10, 14])
    p.add_argument("--lstms", type=int, default=6, help="LSTM trainings of the job")
    p.add_argument("--att-epochs", type=float, default=3, help="the attention analogue's epochs")
    a = p.parse_args(argv)
    if not a.describe and not fairseq_args:
        p.error("give the training command's fairseq-train arguments after --")

    def measure_and_choose():
        res = measure(fairseq_args)
        res["epochs"], res["predicted_job_min"] = choose(res["epoch_cpu_s"], a.choices, a.lstms,
                                                         a.att_epochs, a.budget_min)
        res.update(budget_min=a.budget_min, lstms=a.lstms, att_epochs=a.att_epochs)
        from sutskever_plugin.reporting.machine import commit, describe as hardware
        res.update(hardware=hardware(), commit=commit())
        return res

    return run_choice(a, measure_and_choose, describe)


if __name__ == "__main__":
    sys.exit(main())
