"""Interruption: a SIGKILLed training resumes exactly; a killed pipeline redoes only the
step it was killed in.

Measured facts these tests pin down (CPU, OMP_NUM_THREADS=1):

* fairseq-train resumed from ``checkpoint_last.pt`` in the middle of an epoch retraces the
  uninterrupted run **bit for bit** (same loss and lr at every update, identical model
  tensors, identical final validation loss), dropout included: fairseq restores the
  position in the epoch and seeds every update with ``seed + num_updates``.  On fairseq
  main (``ve-fairseq 0.12.3``) that only holds with ``sutskever_plugin.fairseq_patches.resume``:
  without it a run resumed in epoch >= 2 gets differently composed batches (see that
  module) and ends at another model (measured here: the losses differ from update 31 on,
  and so does the final model).
* The ``sutskever_halving`` lr schedule continues at the right updates after the restart
  (its learned updates-per-epoch is restored from the checkpoint).
* ``scripts/reproduce_table1.sh`` killed during a decoding step leaves no result file for
  that step, and its rerun skips every finished step and redoes only that one.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from conftest import PLUGIN, REPO, TINY, cli

from sutskever_plugin.optim.sutskever_halving import lr_at_update

# The tiny recipe of scripts/reproduce_table1.sh (sutskever_lstm_tiny, 2 x 64, SGD lr 0.7,
# batches of 32 sentences, --sentence-avg --clip-norm 5, lr halved every half epoch,
# a checkpoint every 10 updates), with on our 800-pair slice (25 updates an epoch):
# halving after 1 epoch instead of 2, 50 updates (2 epochs), dropout 0.1 (so that the
# resumed run must also reproduce the dropout masks) and the lr logged at every update.
UPDATES_PER_EPOCH = 25
MAX_UPDATE = 50
RECIPE = ["--arch", "sutskever_lstm_tiny", "--encoder-layers", "2", "--decoder-layers", "2",
          "--encoder-embed-dim", "64", "--decoder-embed-dim", "64",
          "--encoder-hidden-size", "64", "--decoder-hidden-size", "64", "--dropout", "0.1",
          "--optimizer", "sgd", "--momentum", "0", "--lr", "0.7",
          "--lr-scheduler", "sutskever_halving", "--halve-after-epochs", "1",
          "--halve-every-epochs", "0.5", "--batch-size", "32", "--sentence-avg",
          "--clip-norm", "5", "--max-update", str(MAX_UPDATE), "--criterion", "cross_entropy",
          "--save-interval-updates", "10", "--keep-interval-updates", "1",
          "--no-epoch-checkpoints", "--log-format", "simple", "--log-interval", "1",
          "--seed", "1", "--cpu"]
ENV = dict(os.environ, OMP_NUM_THREADS="1")


def train_cmd(data, save):
    return [cli("fairseq-train"), str(data / "bin"), "--user-dir", str(PLUGIN),
            "--task", "translation_reversed", *RECIPE, "--save-dir", str(save)]


def start(cmd, log):
    """A process in its own process group (so the kill reaches all of it), output to log."""
    return subprocess.Popen([str(c) for c in cmd], stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            env=ENV, start_new_session=True, cwd=REPO)


def kill_when(proc, condition, what, timeout=300):
    deadline = time.time() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the process ended (status {proc.returncode}) before {what}")
        if time.time() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def per_update(log_text):
    """{update: (loss, lr)} from fairseq's train_inner lines (--log-interval 1)."""
    return {int(m.group(3)): (float(m.group(1)), float(m.group(4))) for m in re.finditer(
        r"train_inner \| .*?loss=([0-9.]+), nll_loss=([0-9.]+).*?num_updates=(\d+), lr=([0-9.e-]+)",
        log_text)}


def load(path):
    import sutskever_plugin  # noqa: F401  (torch >= 2.6 allow-list)
    from fairseq import checkpoint_utils
    return checkpoint_utils.load_checkpoint_to_cpu(str(path))


@pytest.mark.slow
def test_sigkill_mid_epoch_resumes_bit_for_bit(multi30k_bin, tmp_path):
    full, killed = tmp_path / "uninterrupted", tmp_path / "killed"
    a = start(train_cmd(multi30k_bin, full), tmp_path / "uninterrupted.log")
    b = start(train_cmd(multi30k_bin, killed), tmp_path / "killed.log")
    # SIGKILL in the middle of epoch 2, once the checkpoint of update 30 is complete
    # (fairseq logs "Saved checkpoint" after checkpoint_last.pt is written)
    kill_when(b, lambda: re.search(r"Saved checkpoint \S*checkpoint_2_30\.pt",
                                   (tmp_path / "killed.log").read_text()),
              "the checkpoint of update 30")
    assert b.returncode == -signal.SIGKILL
    state = load(killed / "checkpoint_last.pt")
    itr, resumed_at = state["extra_state"]["train_iterator"], state["optimizer_history"][-1]["num_updates"]
    assert itr["epoch"] == 2 and 0 < itr["iterations_in_epoch"] < UPDATES_PER_EPOCH, itr
    assert resumed_at < MAX_UPDATE
    assert a.wait(timeout=600) == 0, (tmp_path / "uninterrupted.log").read_text()[-3000:]

    # the same command again: resumes from checkpoint_last.pt and finishes
    r = start(train_cmd(multi30k_bin, killed), tmp_path / "resumed.log")
    assert r.wait(timeout=600) == 0, (tmp_path / "resumed.log").read_text()[-3000:]
    resumed_log = (tmp_path / "resumed.log").read_text()
    assert f"(epoch 2 @ {resumed_at} updates)" in resumed_log  # "Loaded checkpoint ..."

    # every update after the restart: same loss and same lr as the uninterrupted run, and
    # the lr is the schedule's (halvings at updates 37 and 49 happen after the restart)
    ref, got = per_update((tmp_path / "uninterrupted.log").read_text()), per_update(resumed_log)
    assert sorted(got) == list(range(resumed_at + 1, MAX_UPDATE + 1))
    for n in got:
        assert got[n] == ref[n], (n, got[n], ref[n])
        assert got[n][1] == pytest.approx(lr_at_update(n, 0.7, UPDATES_PER_EPOCH, 1.0, 0.5), rel=1e-3)
    assert {lr for _, lr in got.values()} >= {0.175, 0.0875}

    # the final model: bit for bit, and so its validation loss
    final_ref, final = load(full / "checkpoint_last.pt"), load(killed / "checkpoint_last.pt")
    assert final["optimizer_history"][-1]["num_updates"] == MAX_UPDATE
    for k, v in final_ref["model"].items():
        assert torch.equal(v, final["model"][k]), k
    assert final["extra_state"]["val_loss"] == final_ref["extra_state"]["val_loss"]
    sched = final["optimizer_history"][-1]["lr_scheduler_state"]
    assert sched == final_ref["optimizer_history"][-1]["lr_scheduler_state"]
    assert sched["updates_per_epoch"] == UPDATES_PER_EPOCH

    # a finished training rerun does nothing (fairseq alone would train update 51 and
    # overwrite checkpoint_last.pt / checkpoint_best.pt)
    before = {p.name: p.read_bytes() for p in full.glob("checkpoint*.pt")}
    again = start(train_cmd(multi30k_bin, full), tmp_path / "again.log")
    assert again.wait(timeout=600) == 0
    assert "training already finished" in (tmp_path / "again.log").read_text()
    assert {p.name: p.read_bytes() for p in full.glob("checkpoint*.pt")} == before


def test_checkpoint_copies_are_atomic(tmp_path, monkeypatch):
    """fairseq copies the saved checkpoint to checkpoint_last.pt / checkpoint_best.pt; a
    copy killed half-way must leave the previous file whole, not a truncated one."""
    import sutskever_plugin.fairseq_patches.resume as rc
    from fairseq.file_io import PathManager

    src, dst = tmp_path / "checkpoint_1_20.pt", tmp_path / "checkpoint_last.pt"
    src.write_bytes(b"new" * 1000)
    dst.write_bytes(b"old" * 1000)

    def copy_half_then_die(a, b):
        Path(b).write_bytes(Path(a).read_bytes()[:1500])
        raise KeyboardInterrupt  # stands for the SIGKILL

    monkeypatch.setattr(rc.shutil, "copyfile", copy_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        PathManager.copy(str(src), str(dst), overwrite=True)
    assert dst.read_bytes() == b"old" * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == [src.name, dst.name]
    monkeypatch.undo()
    assert PathManager.copy(str(src), str(dst), overwrite=True)
    assert dst.read_bytes() == b"new" * 1000


# ------------------------------------------------------------ the pipeline script

@pytest.fixture
def work_after_training(tiny_run, tmp_path):
    """A ``reproduce_table1.sh --scale tiny`` work directory after training: a copy of the
    shared tiny run (conftest.py: its data, models and every key as the pipeline records
    them) without its test perplexities, decodes and table."""
    work = tmp_path / "work"
    shutil.copytree(tiny_run[0], work, symlinks=True)
    for sub in ("ppl", "decode", "results"):
        shutil.rmtree(work / sub)
    return work


@pytest.mark.slow
def test_script_killed_while_decoding_redoes_only_that_step(work_after_training, tmp_path):
    work = work_after_training
    dec = work / "decode"
    cmd = ["bash", *TINY, work]   # the tiny run's own command: its data step is skipped too
    first = start(cmd, tmp_path / "first.log")
    # killed (its whole process group, as a crash or Ctrl-C would) while fairseq-generate
    # writes the output of the last decoding step; the main job decodes two at a time, so
    # the decode beside it may be cut as well
    kill_when(first, lambda: (dec / "ens5_beam12.json").exists()
              and (dec / "valid_ens5_beam1.gen.tmp").exists(), "the last decoding step",
              timeout=900)  # seven test perplexities and the other decodes come first
    log1 = (tmp_path / "first.log").read_text()
    assert "train reversed5: already done, skipped" in log1
    assert "decode ensemble 5 beam 12: done in" in log1
    # no result a rerun would trust: the step's JSON (its done-file) and .gen are absent
    assert not (dec / "valid_ens5_beam1.json").exists()
    assert not (dec / "valid_ens5_beam1.gen").exists()
    # a step is finished once its key is recorded, after its JSON (lib.sh step): a kill
    # between the two leaves a JSON without a key, which the rerun redoes (the decode
    # beside the watched one may be caught there)
    finished = sorted(p.name for p in dec.glob("*.json") if p.with_name(p.name + ".key").exists())
    done_first = (dec / "ens5_beam12.json").stat().st_mtime_ns
    earlier = {p: p.read_bytes() for p in [*(dec / n for n in finished), *(work / "ppl").glob("*.json")]}

    rerun = start(cmd, tmp_path / "rerun.log")
    assert rerun.wait(timeout=900) == 0, (tmp_path / "rerun.log").read_text()[-3000:]
    log2 = (tmp_path / "rerun.log").read_text()
    for name in ("attention", "forward", "forward2", "reversed1", "reversed2", "reversed3", "reversed4",
                 "reversed5"):
        assert f"train {name}: already done, skipped" in log2
    for step in ("prepare data", "test perplexity forward", "test perplexity reversed1",
                 "decode forward beam 12", "decode reversed beam 12", "decode reversed5 beam 12",
                 "decode ensemble 5 beam 1",
                 "decode ensemble 2 beam 12", "decode ensemble 5 beam 2", "decode ensemble 5 beam 12"):
        assert f"{step}: already done, skipped" in log2
    # only the decodes cut by the kill are redone: the one watched, and the one beside it
    redone = re.findall(r"^\[table1\] (decode .*): done in \d+ s", log2, re.M)
    assert "decode ensemble 5 beam 1 (valid)" in redone and 1 <= len(redone) <= 2, redone
    assert len(re.findall(r"^\[table1\] decode .*: already done, skipped", log2, re.M)) == len(finished)
    assert "all done" in log2
    assert (dec / "ens5_beam12.json").stat().st_mtime_ns == done_first
    assert {p: p.read_bytes() for p in earlier} == earlier
    n = json.loads((work / "data" / "summary.json").read_text())["splits"]["valid"]["lines"]
    assert json.loads((dec / "valid_ens5_beam1.json").read_text())["sentences"] == n
    assert len(re.findall(r"^H-\d+\t", (dec / "valid_ens5_beam1.gen").read_text(), re.M)) == n
    assert not list(dec.glob("*.tmp"))
    assert "Single forward LSTM, beam size 12" in (work / "results" / "table1.md").read_text()


@pytest.mark.slow
def test_failed_training_is_never_recorded_as_the_model(work_after_training, tmp_path):
    """A training that fails (here: resuming from a truncated checkpoint_last.pt) stops the
    job, and its save dir's older checkpoint_best.pt never becomes models/NAME.pt."""
    work = work_after_training
    model = work / "models" / "forward.pt"
    model.unlink()
    model.with_name("forward.pt.key").unlink()
    last = work / "checkpoints" / "forward" / "checkpoint_last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    assert (work / "checkpoints" / "forward" / "checkpoint_best.pt").exists()
    proc = subprocess.run(["bash", *map(str, TINY), str(work)], cwd=REPO, capture_output=True,
                          text=True, env=ENV, timeout=900)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "FAILED: step 'train forward' failed" in proc.stderr, proc.stderr[-3000:]
    assert not model.exists() and not model.with_name("forward.pt.key").exists()
    assert not (work / "results" / "table1.md").exists()


def test_failed_pooled_decode_stops_the_one_beside_it(tmp_path):
    """The main job decodes two at a time: when one fails, the pipeline stops and takes
    the decode beside it down too, rather than leaving a fairseq-generate writing into the
    work directory that a rerun would then decode into again. The decodes are stand-ins
    (the real ``step`` replaced): "slow" sleeps, "bad" fails at once."""
    marker = tmp_path / "slow.pid"
    harness = tmp_path / "harness.sh"
    harness.write_text(f"""
TAG=test
source "{REPO}/scripts/lib.sh"
source "{REPO}/scripts/table1_decodes.sh"
step() {{
  case $2 in
    *slow*) sh -c 'echo $$ > "$0"; exec sleep 300 > /dev/null 2>&1' "{marker}" ;;
    *) sleep 1; return 3 ;;
  esac
}}
WORK={tmp_path} OUT_DIR={tmp_path} TEST_INPUTS=()
POOL_JOBS=2
decode_step "decode slow" slow translation 12 m1
while [ ! -s "{marker}" ]; do sleep 0.1; done
decode_step "decode bad" bad translation 12 m2
pool_wait
echo "not reached"
""")
    # output to a file: a stand-in left running would hold a pipe open
    with open(tmp_path / "out.log", "w") as out:
        returncode = subprocess.run(["bash", harness], stdout=out, stderr=subprocess.STDOUT,
                                    timeout=120).returncode
    log = (tmp_path / "out.log").read_text()
    assert returncode != 0 and "not reached" not in log, log
    assert "step 'decode bad' failed" in log, log
    assert_stopped(int(marker.read_text()), "the slow decode, after its neighbour failed")


def test_pool_trap_stops_every_job_whichever_is_gone_first(tmp_path):
    """The pools' EXIT trap (lib.sh stop_jobs) runs under set -e and is given the failed
    step's pid too, in the pool's hash order: a kill that finds its process gone must not
    end the trap before it reaches the steps still running."""
    marker = tmp_path / "live.pid"
    harness = tmp_path / "harness.sh"
    harness.write_text(f"""
TAG=test
source "{REPO}/scripts/lib.sh"
sh -c 'echo $$ > "$0"; exec sleep 300 > /dev/null 2>&1' "{marker}" &
live=$!
while [ ! -s "{marker}" ]; do sleep 0.1; done
true & gone=$!
wait "$gone"
trap 'stop_jobs "$gone" "$live"' EXIT
exit 1
""")
    with open(tmp_path / "out.log", "w") as out:
        assert subprocess.run(["bash", harness], stdout=out, stderr=subprocess.STDOUT,
                              timeout=60).returncode == 1
    assert_stopped(int(marker.read_text()), "the job after a finished one in stop_jobs")


def assert_stopped(pid, what):
    deadline = time.monotonic() + 10
    while (state := process_state(pid)) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.1)
    if state not in (None, "Z"):
        os.kill(pid, signal.SIGKILL)
        pytest.fail(f"{what} kept running (pid {pid}, state {state})")


def process_state(pid):
    """PID's state letter from /proc (R, S, ...), None once it is gone. A killed process
    whose parent died first waits as a zombie (Z) until the machine's init reaps it, which
    in a container may take a while: Z counts as stopped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None
