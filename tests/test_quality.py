"""bash scripts/benchmark.sh --quality: the equal-time comparison of ours and fairseq's
built-in LSTM, end to end at the tiny scale with toy sizes and a budget of seconds, its
option checks, and its report on logs written here (expected numbers derived from them).
No speed is asserted: which model is ahead after a few seconds on a busy machine is what
the comparison reports, not what the test checks."""
import csv
import json
import math
import subprocess
from datetime import datetime, timedelta

import pytest

from conftest import MULTI30K, REPO
from sutskever_plugin.reporting import quality

BUDGET = 0.3  # minutes


def script(*args, check=True):
    proc = subprocess.run(["bash", "scripts/benchmark.sh", "--quality", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode})\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


TINY = ("--scale", "tiny", "--raw-dir", MULTI30K.relative_to(REPO), "--budget-minutes", BUDGET,
        "--hidden", 32, "--embed", 16, "--validate-interval-updates", 10, "--bf16", "off", "--work")


@pytest.fixture(scope="module")
def tiny_quality(tmp_path_factory):
    work = tmp_path_factory.mktemp("quality") / "work"
    return work, script(*TINY, work)


@pytest.mark.slow
def test_tiny_comparison_writes_csv_png_and_markdown(tiny_quality):
    work, _ = tiny_quality
    results = work / "results"
    with open(results / "quality_tiny.csv") as f:
        rows = list(csv.DictReader(f))
    for system in ("ours", "builtin"):
        val = [r for r in rows if r["kind"] == "val" and r["system"] == system]
        assert val, system
        ppl = [float(r["val_ppl"]) for r in val]
        assert all(1 < p < 1e5 and math.isfinite(p) for p in ppl), ppl
        wall = [float(r["wall_s"]) for r in val]
        updates = [int(r["num_updates"]) for r in val]
        assert wall == sorted(wall) and wall[0] >= 0
        assert updates == sorted(updates) and updates[0] > 0
        final = [r for r in rows if r["kind"] == "final" and r["system"] == system]
        assert len(final) == 1
        f = final[0]
        assert float(f["best_val_ppl"]) == min(ppl)
        assert int(f["num_updates"]) == updates[-1]
        assert 0 <= float(f["test_bleu_beam12"]) <= 100 and 0 <= float(f["test_sacrebleu_beam12"]) <= 100
    for r in rows:
        assert r["scale"] == "tiny" and r["hardware"] and r["commit"], r
        assert float(r["budget_minutes"]) == BUDGET and r["ours_bf16"] == "off"
    # the decode is the best validated checkpoint's: the model of record is it
    assert (work / "models" / "ours.pt").exists() and (work / "models" / "builtin.pt").exists()
    png = (results / "quality_tiny.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000
    md = (results / "quality_tiny.md").read_text()
    for text in ("sutskever_lstm (ours)", "fairseq lstm (built-in)", "![", "quality_tiny.png",
                 f"**{BUDGET:g} minutes**", "without `--autocast-bf16`", "Issue 15's target",
                 "--decoder-attention 0", "--stop-time-hours", "Hardware:", "commit"):
        assert text in md, text
    assert "--autocast-bf16 " not in md.split("- Ours:")[1].split("\n")[0] + " "


@pytest.mark.slow
def test_rerun_skips_the_trained_pair(tiny_quality):
    work, _ = tiny_quality
    before = (work / "logs" / "train_ours.log").read_text()
    out = script(*TINY, work).stdout
    assert "train side by side: already done, skipped" in out
    assert "decode ours beam 12: already done, skipped" in out
    assert (work / "logs" / "train_ours.log").read_text() == before


@pytest.mark.parametrize("args, message", [
    (["--budget-minutes", "0"], "--budget-minutes must be a number of minutes > 0 (got '0')"),
    (["--budget-minutes", "abc"], "--budget-minutes must be a number of minutes > 0 (got 'abc')"),
    (["--bf16", "auto"], "--bf16 must be on or off (got 'auto')"),
    (["--cores", "0,0"], "--cores 0,0: the two trainings need a core each"),
    (["--cores", "0"], "--cores must be two core numbers, A,B (got '0')"),
    (["--cores", "0,4096"], "--cores 0,4096: this machine has cores"),
    (["--scale", "paper"], "--scale must be tiny or small (got 'paper')"),
    (["--hidden", "0"], "--hidden must be an integer >= 1 (got '0')"),
    (["--budget-minutes"], "--budget-minutes needs a value"),
    (["--frobnicate"], "unknown argument '--frobnicate'"),
])
def test_options_are_checked_before_anything(args, message, tmp_path):
    proc = script(*args, "--work", tmp_path / "w", check=False) if args != ["--budget-minutes"] \
        else script("--work", tmp_path / "w", *args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr
    assert not (tmp_path / "w").exists()


def _log(path, t0, points, end_s):
    """A fairseq-train log: the config line at t0, a validation (updates, ppl) at each
    (seconds, updates, ppl), the last line at end_s."""
    stamp = lambda s: (t0 + timedelta(seconds=s)).strftime("%Y-%m-%d %H:%M:%S")
    lines = [f"{stamp(0)} | INFO | fairseq_cli.train | {{'_name': None}}"]
    for s, u, p in points:
        lines.append(f"{stamp(s)} | INFO | valid | epoch 001 | valid on 'valid' subset | loss {math.log2(p):.3f} "
                     f"| nll_loss {math.log2(p):.3f} | ppl {p} | wps 1000 | wpb 100 | bsz 10 | num_updates {u} "
                     f"| best_loss {math.log2(p):.3f}")
    lines.append(f"{stamp(end_s)} | INFO | fairseq_cli.train | done training in {end_s:.1f} seconds")
    path.write_text("\n".join(lines) + "\n")


def test_report_of_known_curves(tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    for d in ("logs", "decode", "data"):
        (work / d).mkdir(parents=True)
    t0 = datetime(2026, 3, 1, 10, 0, 0)
    budget_min = 10
    ours = [(60, 100, 90.0), (120, 200, 40.0), (180, 300, 24.5), (300, 500, 15.0), (600, 1000, 11.0)]
    builtin = [(90, 100, 95.0), (180, 200, 50.0), (400, 450, 30.0), (600, 640, 24.0)]
    _log(work / "logs" / "train_ours.log", t0, ours, 610)
    _log(work / "logs" / "train_builtin.log", t0, builtin, 605)
    (work / "decode" / "ours_beam12.json").write_text(json.dumps({"bleu_tokenized": 20.5, "sacrebleu_detok": 19.0}))
    (work / "decode" / "builtin_beam12.json").write_text(json.dumps({"bleu_tokenized": 15.5, "sacrebleu_detok": 15.0}))
    quality.main(["--work", str(work), "--out", str(out), "--scale", "small", "--budget-minutes", str(budget_min),
                  "--validate-interval-updates", "100", "--ours-flags", "--arch sutskever_lstm --autocast-bf16",
                  "--builtin-flags", "--arch lstm", "--common-flags", "--task translation_reversed",
                  "--cores", "0,1", "--command", "bash scripts/benchmark.sh --quality"])
    target = min(p for _, _, p in builtin)
    first_s = next(s for s, _, p in ours if p <= target)
    share = first_s / (budget_min * 60)
    with open(out / "quality_small.csv") as f:
        rows = list(csv.DictReader(f))
    final = {r["system"]: r for r in rows if r["kind"] == "final"}
    assert float(final["ours"]["reached_builtin_best_s"]) == first_s
    assert float(final["ours"]["reached_share_of_budget"]) == pytest.approx(share)
    assert float(final["builtin"]["best_val_ppl"]) == target
    assert [float(r["val_ppl"]) for r in rows if r["kind"] == "val" and r["system"] == "ours"] == [p for _, _, p in ours]
    md = (out / "quality_small.md").read_text()
    assert f"after **{first_s / 60:.1f} min = {share:.0%} of the budget**" in md
    met = "met" if share <= quality.TARGET_SHARE else "not met"
    assert f"time **{met}**, BLEU **met**" in md  # 20.5 > 15.5
    assert "ours **with `--autocast-bf16`**" in md
    assert {r["ours_bf16"] for r in rows} == {"on"}
    assert (out / "quality_small.png").read_bytes()[:4] == b"\x89PNG"


def test_the_benchmark_report_links_the_quality_report(tmp_path):
    from sutskever_plugin.benchmark.report import related_reports
    (tmp_path / "quality_small.md").write_text("x")
    line = next(line for line in related_reports(tmp_path) if "quality" in line)
    assert "[`quality_small.md`](quality_small.md)" in line


def test_report_names_a_log_without_validations(tmp_path):
    work = tmp_path / "work"
    (work / "logs").mkdir(parents=True)
    for s in ("ours", "builtin"):
        _log(work / "logs" / f"train_{s}.log", datetime(2026, 3, 1), [], 5)
    with pytest.raises(SystemExit) as e:
        quality.main(["--work", str(work), "--out", str(tmp_path / "o"), "--scale", "tiny", "--budget-minutes", "1",
                      "--validate-interval-updates", "10", "--ours-flags", "", "--builtin-flags", "",
                      "--common-flags", "", "--cores", "0,1", "--command", "x"])
    assert "train_ours.log: no validation line" in str(e.value)
