"""scripts/tune_small.sh checks its options before it prepares data or trains."""
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args, message", [
    (["--name", "a b", "--epochs", "1"], "--name must be a plain word"),
    (["--name", "x", "--epochs", "ten"], "--epochs must be a whole number"),
    (["--name", "x", "--epochs", "1", "--direction", "sideways"], "--direction is reversed or forward"),
    (["--name", "x", "--epochs", "1", "--bogus"], "unknown argument '--bogus'"),
])
def test_bad_options_stop_it_before_any_work(args, message, tmp_path):
    proc = subprocess.run(["bash", "scripts/tune_small.sh", *args, "--work", str(tmp_path / "w"),
                           "--results", str(tmp_path / "r"), "--", "--arch", "sutskever_lstm_tiny"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert not (tmp_path / "w").exists() and not (tmp_path / "r").exists()


def test_a_row_names_the_commit_its_run_started_from(tmp_path):
    import json
    import sys
    sys.path.insert(0, str(REPO / "scripts"))
    import tune_small
    log = tmp_path / "cpu.jsonl"
    log.write_text(json.dumps({"event": "start", "commit": "abc1234+dirty", "cpu_s": 1.0}) + "\n"
                   + json.dumps({"event": "end", "cpu_s": 2.0}) + "\n")
    assert tune_small.trained_at(str(log)) == "abc1234+dirty"
    # a run logged before the start event carried its commit: the checkout's now
    log.write_text(json.dumps({"event": "start", "cpu_s": 1.0}) + "\n")
    assert tune_small.trained_at(str(log)) == tune_small.git_commit()
