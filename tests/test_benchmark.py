"""scripts/benchmark.py --quick still runs end to end and reports sane numbers.

No timing is asserted: the machine is shared and speed is what the benchmark reports,
not what the tests check. Run in a subprocess because the benchmark changes process-wide
settings (torch threads, and malloc's policy in its last measurement).
"""
import csv
import sys

from conftest import REPO, run

MODELS = {"sutskever_lstm", "builtin_lstm"}


def test_quick_benchmark_reports_both_models(tmp_path):
    proc = run([sys.executable, REPO / "scripts" / "benchmark.py", "--quick", "--out-dir", tmp_path])
    assert "wrote" in proc.stdout
    with open(tmp_path / "benchmark.csv") as f:
        rows = list(csv.DictReader(f))
    kinds = {r["kind"] for r in rows}
    assert {"train", "generate", "scale_length", "scale_batch", "scale_beam"} <= kinds, kinds

    train = [r for r in rows if r["kind"] == "train"]
    sizes = {r["size"] for r in train}
    assert len(sizes) >= 2
    for size in sizes:
        assert {r["model"] for r in train if r["size"] == size} == MODELS, size
    for r in train:
        for key in ("words_per_s", "words_per_cpu_s", "gflop_per_step", "mm_gflop_per_s",
                    "mm_gflop_per_cpu_s", "peak_rss_mb"):
            assert float(r[key]) > 0, (key, r)
        assert 0 < float(r["mfu_cpu"]) < 1.5, r  # a fraction of the machine's matmul rate
        assert r["layers"] and int(r["hidden"]) > 0

    gen = [r for r in rows if r["kind"] == "generate"]
    assert {(r["model"], r["beam"]) for r in gen} >= {(m, b) for m in MODELS for b in ("1", "12")}
    assert all(float(r["sents_per_s"]) > 0 and float(r["sents_per_cpu_s"]) > 0 for r in gen)

    md = (tmp_path / "benchmark.md").read_text()
    for heading in ("## Training throughput", "## Generation", "## How time grows",
                    "## Benchmark notes", "Machine:", "Load average"):
        assert heading in md, heading
