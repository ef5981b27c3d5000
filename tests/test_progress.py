"""sutskever_plugin/progress.py: the main job's progress lines, and its estimate of the
trainings' time left from every training's measured pace."""
import subprocess
import sys

import pytest

from conftest import PLUGIN
from sutskever_plugin.progress import Progress, parse_plan, seconds_left

VALID = ("2026-12-07 14:00:00 | INFO | valid | epoch {:03d} | valid on 'valid' subset | loss 5.1 | ppl 9.5 "
         "| wps 1000 | num_updates 227")
END = "2026-12-07 14:00:00 | INFO | fairseq_cli.train | end of epoch {} (average epoch stats below)"


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_seconds_left_weighs_each_training_by_its_own_pace():
    plan = {"attention": 3, "forward": 7, "reversed1": 7}
    # nothing measured yet: no estimate
    assert seconds_left(plan, {}, 2) is None
    states = {"attention": {"epochs_done": 1, "s_per_epoch": 300.0},
              "forward": {"epochs_done": 2, "s_per_epoch": 200.0}}
    # attention 2 x 300, forward 5 x 200, reversed1 unmeasured: 7 x the mean pace 250;
    # three trainings left, two at a time
    assert seconds_left(plan, states, 2) == pytest.approx((600 + 1000 + 1750) / 2)
    # more cores than trainings left: the work over the trainings left
    assert seconds_left(plan, states, 8) == pytest.approx((600 + 1000 + 1750) / 3)
    done = {n: {"epochs_done": e, "s_per_epoch": 1.0} for n, e in plan.items()}
    assert seconds_left(plan, done, 2) == 0.0


def test_lines_pass_through_prefixed_and_each_epoch_end_reports_the_job(tmp_path):
    clock = Clock()
    plan = parse_plan("attention:3,reversed1:2")
    assert plan == {"attention": 3.0, "reversed1": 2.0}
    p = Progress("reversed1", 2, str(tmp_path / "state"), plan, jobs=2, tag="table1", clock=clock)
    assert p.line("2026-12-07 | INFO | fairseq.tasks | loaded 100 examples") is None
    inner = p.line("2026-12-07 14:00:00 | INFO | train_inner | epoch 001:     50 / 227 loss=9.1")
    assert inner == "  [reversed1] train_inner | epoch 001:     50 / 227 loss=9.1"
    clock.t = 120.0
    # a validation (within an epoch too, before a checkpoint) is shown, and is no epoch's end
    assert p.line(VALID.format(1)).startswith("  [reversed1] valid | epoch 001 | valid on 'valid' subset")
    assert not (tmp_path / "state").exists()
    # reversed1 1 epoch left at 120 s, attention unmeasured 3 x 120, two at a time
    assert p.line(END.format(1)) == ("[table1] progress: reversed1 epoch 1/2 (120 s an epoch here); "
                                     "trainings 1 of 5 epochs done, about 4 min left")
    clock.t = 240.0
    last = p.line(END.format(2))
    assert last.startswith("[table1] progress: reversed1 epoch 2/2 (120 s an epoch here); trainings 2 of 5")
    assert "about 6 min left" in last   # the attention analogue's 3 epochs, alone now


def test_a_resumed_training_counts_its_pace_from_its_first_epoch_here(tmp_path):
    clock = Clock()
    p = Progress("forward", 7, str(tmp_path), {"forward": 7}, jobs=1, clock=clock)
    clock.t = 100.0
    assert "forward epoch 5/7 (100 s an epoch here); trainings 5 of 7 epochs done, about 3 min left" \
        in p.line(END.format(5))


def test_a_model_already_trained_counts_as_done(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "forward.pt").write_bytes(b"")
    clock = Clock()
    p = Progress("reversed1", 2, str(tmp_path / "state"), {"forward": 7, "reversed1": 2}, jobs=2,
                 models_dir=str(tmp_path / "models"), clock=clock)
    clock.t = 60.0
    assert "trainings 8 of 9 epochs done, about 1 min left" in p.line(END.format(1))


def test_runs_as_a_filter_without_the_plugin(tmp_path):
    """reproduce_table1.sh pipes fairseq-train through the file itself (no torch import)."""
    lines = "\n".join(["noise", "x | INFO | train_inner | epoch 001:  1 / 2 loss=3", VALID.format(1),
                       END.format(1)]) + "\n"
    proc = subprocess.run([sys.executable, "-X", "importtime", str(PLUGIN / "progress.py"), "--model", "m",
                           "--epochs", "1", "--plan", "m:1", "--jobs", "1", "--state-dir", str(tmp_path)],
                          input=lines, capture_output=True, text=True, check=True)
    out = proc.stdout.splitlines()
    assert out[0] == "  [m] train_inner | epoch 001:  1 / 2 loss=3" and out[1].startswith("  [m] valid | epoch 001 | valid on")
    assert out[2].startswith("[table1] progress: m epoch 1/1") and out[2].endswith("every epoch of the plan done")
    assert "torch" not in proc.stderr and "fairseq" not in proc.stderr
