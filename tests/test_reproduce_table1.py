"""scripts/reproduce_table1.sh end to end at tiny scale, its paper-scale dry run, and
scripts/evaluate.sh on a user's test set with the models it trained."""
import csv
import gzip
import re
import subprocess

import pytest

from conftest import REPO, SHARED_DATA


def script(*args, check=True):
    proc = subprocess.run(["bash", *map(str, args)], cwd=REPO, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode})\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def test_paper_scale_dry_run_prints_every_command(tmp_path):
    out = script("scripts/reproduce_table1.sh", "--scale", "paper", "--dry-run", "--gpus", "8",
                 "--work", tmp_path / "paper").stdout
    trains = [l for l in out.splitlines() if "fairseq-train" in l and "--save-dir" in l]
    assert len(trains) == 7
    for line in trains:
        # the paper's recipe over fairseq's own data-parallel training: 8 x 16 = 128 sentences
        for flag in ("--optimizer sgd", "--lr 0.7", "--lr-scheduler sutskever_halving",
                     "--halve-after-epochs 5", "--halve-every-epochs 0.5", "--sentence-avg",
                     "--clip-norm 5", "--batch-size 16", "--distributed-world-size 8",
                     "--max-update 703125", "--encoder-hidden-size 1000", "--encoder-layers 4"):
            assert flag in line, (flag, line)
    reversed_ = [l for l in trains if "--task translation_reversed" in l]
    assert len(reversed_) == 5 and all("--arch sutskever_lstm " in l for l in reversed_)
    assert {re.search(r"--seed (\d)", l).group(1) for l in reversed_} == set("12345")
    gens = [l for l in out.splitlines() if "fairseq-generate" in l]
    beams = sorted(re.search(r"--beam (\d+)", l).group(1) for l in gens)
    assert beams == sorted(["12", "12", "1", "12", "2", "12", "12"])
    assert any(l.count(".pt") == 5 and "--beam 2 " in l for l in gens)  # ensemble of 5
    assert "newstest2014" in out and "--nwordssrc 160000 --nwordstgt 80000" in out


def test_autocast_bf16_reaches_the_lstm_trainings_only(tmp_path):
    out = script("scripts/reproduce_table1.sh", "--scale", "paper", "--dry-run", "--autocast-bf16",
                 "--work", tmp_path / "paper").stdout
    trains = [l for l in out.splitlines() if "fairseq-train" in l and "--save-dir" in l]
    with_flag = [l for l in trains if "--autocast-bf16" in l]
    assert len(trains) == 7 and len(with_flag) == 6
    assert all("--arch sutskever_lstm " in l for l in with_flag)  # not fairseq's attention lstm


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    if not (SHARED_DATA / "multi30k").exists():
        pytest.skip("../shared/data/multi30k not present")
    work = tmp_path_factory.mktemp("tiny") / "work"
    first = script("scripts/reproduce_table1.sh", "--scale", "tiny", "--work", work)
    return work, first


def test_tiny_end_to_end(tiny_run):
    work, first = tiny_run
    with open(work / "results" / "table1.csv") as f:
        rows = {r["method"]: r for r in csv.DictReader(f)}
    assert len(rows) == 10
    for name in ("Single forward LSTM, beam size 12", "Single reversed LSTM, beam size 12",
                 "Ensemble of 5 reversed LSTMs, beam size 1", "Ensemble of 2 reversed LSTMs, beam size 12",
                 "Ensemble of 5 reversed LSTMs, beam size 2", "Ensemble of 5 reversed LSTMs, beam size 12",
                 "Bahdanau et al. [2]"):
        assert float(rows[name]["ours"]) >= 0 and rows[name]["paper"]
        assert "nrefs:1" in rows[name]["sacrebleu_signature"]
    assert float(rows["Test perplexity, single reversed LSTM"]["ours"]) > 1
    assert "pending" in rows["Baseline System [29]"]["note"] or rows["Baseline System [29]"]["ours"]
    # every test sentence has a hypothesis, in order
    hyps = (work / "decode" / "ens5_beam12.tok").read_text().splitlines()
    assert len(hyps) == 200
    # each step printed one summary line
    assert len(re.findall(r"^\[table1\] decode .*: done in \d+ s", first.stdout, re.M)) == 7
    assert len(re.findall(r"^\[table1\] train \w+: done in \d+ s", first.stdout, re.M)) == 7


def test_rerun_skips_finished_steps(tiny_run):
    work, _ = tiny_run
    again = script("scripts/reproduce_table1.sh", "--scale", "tiny", "--work", work).stdout
    assert len(re.findall(r"already done, skipped", again)) == 1 + 7 + 2 + 7
    assert "fairseq-train" not in again and "train_inner" not in again


def test_evaluate_on_a_user_test_set(tiny_run, tmp_path):
    work, _ = tiny_run
    for lang in ("en", "fr"):
        with gzip.open(SHARED_DATA / "multi30k" / f"val.{lang}.gz", "rt") as f:
            (tmp_path / f"mine.{lang}").write_text("".join(next(f) for _ in range(30)))
    out = script("scripts/evaluate.sh", "--scale", "tiny", "--work", work,
                 "--src", tmp_path / "mine.en", "--ref", tmp_path / "mine.fr").stdout
    assert "Ensemble of 5 reversed LSTMs, beam size 12" in out
    with open(work / "eval" / "mine" / "table1.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and all(r["ours"] != "" for r in rows)
    assert len((work / "eval" / "mine" / "decode" / "forward_beam12.tok").read_text().splitlines()) == 30


def test_bad_arguments_name_the_problem(tmp_path):
    proc = script("scripts/reproduce_table1.sh", "--scale", "huge", check=False)
    assert proc.returncode != 0 and "--scale must be tiny, small or paper" in proc.stderr
    proc = script("scripts/evaluate.sh", "--src", tmp_path / "nope.en", "--ref", tmp_path / "nope.fr", check=False)
    assert proc.returncode != 0 and "no such file" in proc.stderr
