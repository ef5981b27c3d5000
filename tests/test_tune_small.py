"""scripts/tune_small.sh: its options are checked before it prepares data or trains; an
ensemble of its candidates is decoded on valid and recorded."""
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
from conftest import MULTI30K  # noqa: E402


@pytest.mark.parametrize("args, message", [
    (["--name", "a b", "--epochs", "1"], "--name must be a plain word"),
    (["--name", "x", "--epochs", "ten"], "--epochs must be a whole number"),
    (["--name", "x", "--epochs", "1", "--direction", "sideways"], "--direction is reversed or forward"),
    (["--name", "x", "--epochs", "1", "--bogus"], "unknown argument '--bogus'"),
    (["--name", "x", "--ensemble", "a"], "--ensemble lists two or more candidates"),
    (["--name", "x", "--ensemble", "a,b"], "--ensemble trains nothing"),
    (["--name", "x", "--probe-updates", "60"], "--probe-updates must be a whole number of at least 100"),
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


def test_a_probe_row_is_the_cpu_rate_from_update_50_on(tmp_path):
    """record-probe (tune_small.sh --probe-updates): CPU s per update between the first and
    the last logged update, and the epoch it implies at the flags' batch (of the pairs the
    training logged at its epoch's start: Multi30k's 29,000)."""
    import csv
    import json
    import sys
    log, mm = tmp_path / "cpu.jsonl", tmp_path / "mm.json"
    log.write_text("".join(json.dumps(e) + "\n" for e in (
        {"event": "start", "commit": "abc1234", "cpu_s": 0.0},
        {"event": "epoch_start", "epoch": 1, "updates": 0, "train_pairs": 29000, "cpu_s": 1.0},
        {"event": "update", "updates": 50, "cpu_s": 10.0},
        {"event": "update", "updates": 100, "cpu_s": 15.0},
        {"event": "update", "updates": 150, "cpu_s": 20.0})))
    mm.write_text(json.dumps({"bf16_over_fp32_512": 2.1, "bf16_over_fp32_2048": 2.2}))
    proc = subprocess.run([sys.executable, "scripts/tune_small.py", "record-probe", "--out-dir", str(tmp_path / "r"),
                           "--name", "p", "--flags", "--batch-size 128 --autocast-bf16",
                           "--cpu-jsonl", str(log), "--mm-json", str(mm)],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    row, = csv.DictReader(open(tmp_path / "r" / "probes.csv"))
    assert (row["updates_measured"], row["cpu_s_per_update"], row["updates_per_epoch"],
            row["train_cpu_s_per_epoch"], row["bf16"], row["commit"]) == ("100", "0.1", "227", "22.7", "True", "abc1234")
    assert row["mm_bf16_over_fp32"] == "2.1x (512), 2.2x (2048)"


def _tune(tmp_path, *args):
    return subprocess.run(["bash", "scripts/tune_small.sh", "--work", str(tmp_path / "w"),
                           "--results", str(tmp_path / "r"), "--raw-dir", str(MULTI30K), *args],
                          cwd=REPO, capture_output=True, text=True)


@pytest.mark.slow
def test_an_ensemble_of_candidates_is_decoded_on_valid_and_recorded(tmp_path):
    """Two tiny candidates trained by tune_small.sh, then their ensemble: one row in
    ensembles.csv with the members' own val ppl and the three beams' BLEU of the decodes."""
    import csv
    import json
    tiny = ["--", "--arch", "sutskever_lstm_tiny", "--optimizer", "adam", "--lr", "0.005",
            "--batch-size", "64", "--sentence-avg", "--clip-norm", "5",
            "--criterion", "sutskever_cross_entropy", "--cpu"]
    for seed in ("1", "2"):
        proc = _tune(tmp_path, "--name", f"s{seed}", "--epochs", "1", *tiny, "--seed", seed)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = _tune(tmp_path, "--name", "ens", "--ensemble", "s1,s3")
    assert proc.returncode == 2 and "candidate 's3' has no model" in proc.stderr
    proc = _tune(tmp_path, "--name", "ens", "--ensemble", "s1,s2")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = tmp_path / "w" / "ensembles" / "ens"
    # one fairseq ensemble of both members' best checkpoints
    assert "s1/ckpt/checkpoint_best.pt:" in (out / "generate.log").read_text().replace(
        str(tmp_path / "w" / "runs") + "/", "")
    cands = {r["name"]: r for r in csv.DictReader(open(tmp_path / "r" / "candidates.csv"))}
    [row] = list(csv.DictReader(open(tmp_path / "r" / "ensembles.csv")))
    assert row["members"] == "s1 s2" and row["direction"] == "reversed"
    assert row["members_best_val_ppl"].split() == [cands["s1"]["best_val_ppl"], cands["s2"]["best_val_ppl"]]
    for beam in (1, 2, 12):
        bleu = json.load(open(out / f"valid_beam{beam}.json"))["bleu_tokenized"]
        assert row[f"valid_bleu_beam{beam}"] == f"{bleu:.2f}"
    assert "## Ensembles of candidates" in (tmp_path / "r" / "README.md").read_text()
    # a probe's epoch is the pairs of the data it trains on, as the training counted them
    events = [json.loads(x) for x in open(tmp_path / "w" / "runs" / "s1" / "cpu.jsonl")]
    summary = json.load(open(tmp_path / "w" / "data" / "summary.json"))
    assert {e["train_pairs"] for e in events if e["event"] == "epoch_start"} == {summary["splits"]["train"]["lines"]}


def test_write_readme_regenerates_the_readme_from_the_csvs_and_links_the_notes(tmp_path):
    """`write-readme` writes the tables and links notes.md (hand-written, never copied into
    the generated file); without a candidates.csv it says which file is missing and writes
    nothing."""
    import shutil
    import sys
    out = tmp_path / "r"
    proc = subprocess.run([sys.executable, "scripts/tune_small.py", "write-readme", "--out-dir", str(out)],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1 and "candidates.csv: no such file" in proc.stderr
    assert not out.exists()
    out.mkdir()
    shutil.copy(REPO / "results" / "tuning_small" / "candidates.csv", out)
    (out / "notes.md").write_text("## Reading the rows\n\nA note written after the last row.\n")
    proc = subprocess.run([sys.executable, "scripts/tune_small.py", "write-readme", "--out-dir", str(out)],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = (out / "README.md").read_text()
    first = open(out / "candidates.csv").readlines()[1].split(",")[0]
    assert f"| {first} |" in text
    assert text.rstrip().endswith("The reading of these rows: [`notes.md`](notes.md).")
    assert "A note written after the last row." not in text
    assert "## Speed probes" not in text  # no probes.csv here
