"""sutskever_plugin/job.py: the Table 1 job's plan as the script evaluates it, the free
port of the CPU ranks, a model's record."""
import json
import socket
import subprocess
import sys

import pytest

from conftest import PLUGIN

from sutskever_plugin.job import count_lines, free_port, models, plan, record_model, shell


def test_small_plan_follows_the_recipe():
    # scripts/recipe_small.sh: 7 epochs of 29,000 pairs in batches of 128, the attention
    # analogue 3, the lr fixed after a warm-up; one forward seed; two cores
    p = plan("small", "7", 128, 29000, cores=2, forward_seeds=1, att_epochs="3",
             halve_after="end", warmup=100)
    assert (p["MAX_UPDATE"], p["ATT_MAX_UPDATE"]) == ("1589", "681")
    assert p["SCHEDULE"] == "7 epochs (1589 updates)"
    assert p["ATT_SCHEDULE"] == ", trained 3 epochs (681 updates; the LSTMs 7)"
    assert p["HALVE_FROM"] == "7"
    assert p["LR_SCHEDULE"] == ("lr warmed up linearly over 100 updates, then lr fixed "
                                "(no halving within the 7 epochs)")
    assert p["MODELS"][:2] == ["attention translation 1", "forward translation 1"]
    assert p["MODELS"][2:] == [f"reversed{s} translation_reversed {s}" for s in range(1, 6)]
    assert p["PLAN"] == "attention:3,forward:7," + ",".join(f"reversed{s}:7" for s in range(1, 6))
    assert (p["JOBS"], p["THREADS"], p["DECODE_POOL"], p["DECODE_THREADS"]) == ("2", "1", "2", "1")


def test_paper_plan_halves_and_trains_one_model_at_a_time():
    p = plan("paper", "7.5", 128, 12000000, cores=16, forward_seeds=2, halve_after="5", workers=4)
    assert p["MAX_UPDATE"] == p["ATT_MAX_UPDATE"] == "703125" and p["ATT_SCHEDULE"] == ""
    assert p["LR_SCHEDULE"] == "lr halved every 0.5 epoch(s) after 5"
    assert "forward2 translation 2" in p["MODELS"]
    # one training at a time, the cores shared among its CPU workers; decodes one at a time
    # on every core, or --decode-jobs at a time sharing them
    assert (p["JOBS"], p["THREADS"], p["DECODE_POOL"], p["DECODE_THREADS"]) == ("1", "4", "1", "16")
    assert plan("paper", "7.5", 128, 12000000, 2, 2, workers=8, decode_jobs=3)["THREADS"] == "1"
    p = plan("paper", "7.5", 128, 12000000, 8, 2, decode_jobs=3)
    assert (p["DECODE_POOL"], p["DECODE_THREADS"]) == ("3", "2")


def test_max_update_override_applies_to_every_model():
    p = plan("paper", "7.5", 128, 1000, cores=1, forward_seeds=2, att_epochs="3", halve_after="5",
             max_update=30)
    assert p["MAX_UPDATE"] == p["ATT_MAX_UPDATE"] == "30" and p["ATT_SCHEDULE"] == ""
    assert p["SCHEDULE"] == "30 updates (--max-update; the recipe's 7.5 epochs are 60)"


@pytest.mark.parametrize("cores, jobs", [("1", 1), ("3", 3), ("8", 8), ("64", 8)])
def test_the_pool_never_exceeds_the_trainings(cores, jobs):
    p = plan("tiny", "3", 32, 2000, cores=int(cores), forward_seeds=2, halve_after="2")
    assert len(p["MODELS"]) == 8 and p["JOBS"] == str(jobs) and p["DECODE_POOL"] == cores
    assert p["THREADS"] == p["DECODE_THREADS"] == "1"  # the same numbers whatever the cores
    assert p["LR_SCHEDULE"] == "lr halved every 0.5 epoch(s) after 2"


def test_models_order_and_seeds():
    assert [m[0] for m in models(3)] == ["attention", "forward", "forward2", "forward3",
                                         "reversed1", "reversed2", "reversed3", "reversed4", "reversed5"]
    assert models(3)[3] == ["forward3", "translation", "3"]


def test_shell_assignments_survive_bash(tmp_path):
    text = shell({"A": "it's 7 epochs (1 update)", "B": ["x y", "z"], "C": ""})
    out = subprocess.run(["bash", "-c", 'eval "$1"; printf "%s|" "$A" "${#B[@]}" "${B[0]}" "$C"', "_", text],
                         capture_output=True, text=True, check=True).stdout
    assert out == "it's 7 epochs (1 update)|2|x y||"


def test_plan_cli_counts_the_training_file(tmp_path):
    train = tmp_path / "train.en"
    train.write_text("a\n" * 1000 + "no newline")
    assert count_lines(str(train)) == 1000
    args = [sys.executable, str(PLUGIN / "job.py"), "plan", "--scale", "tiny", "--epochs", "2.5",
            "--batch", "7", "--cores", "2", "--forward-seeds", "2", "--halve-after", "2"]
    out = subprocess.run(args + ["--train-file", str(train)], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    assert "MAX_UPDATE=358\n" in out.stdout and out.stderr == ""   # ceil(2.5 * ceil(1000 / 7))
    nominal = subprocess.run(args + ["--train-file", str(tmp_path / "none")], capture_output=True,
                             text=True, check=True).stdout
    assert "MAX_UPDATE=715\n" in nominal   # the tiny scale's nominal 2000 pairs


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
    out = subprocess.run([sys.executable, str(PLUGIN / "job.py"), "free-port"], capture_output=True,
                         text=True, check=True).stdout
    assert 0 < int(out) < 65536


def test_model_record(tmp_path):
    out = tmp_path / "forward.json"
    record_model(str(out), 12, "abc1234", 2, "translation")
    assert json.loads(out.read_text()) == {"train_wall_s": 12, "commit": "abc1234", "seed": 2,
                                           "task": "translation"}
    subprocess.run([sys.executable, str(PLUGIN / "job.py"), "record-model", "--out", str(out),
                    "--train-wall-s", "5", "--commit", "x y", "--seed", "1", "--task", "t"], check=True)
    assert json.loads(out.read_text())["commit"] == "x y"

