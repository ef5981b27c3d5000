"""Shared fixtures: the repo, the CLIs of this interpreter's fairseq, a tiny Multi30k
slice binarised with fairseq-preprocess, tiny trained checkpoints, and the one tiny
end-to-end run (``tiny_run``) that the fast tier shares.

Tests come in two tiers (pytest.ini, scripts/test.sh): the fast one, ``-m "not slow"``, and
the end-to-end pipelines marked ``@pytest.mark.slow`` (``bash scripts/test.sh --slow``).

Every test reads its corpora from tests/data (committed, see tests/data/README.md), never
from a folder beside the repo, so any clone runs the same tests as CI.  A skipped test is
reported as a failure (``pytest_runtest_makereport`` below): a suite that passes must
have run every test.

Test modules take these names with ``from conftest import ...`` (pytest puts tests/ on
the path for its conftest) and the plugin as the installed package ``sutskever_plugin``;
none edits ``sys.path``."""
import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PLUGIN = REPO / "sutskever_plugin"
TEST_DATA = REPO / "tests" / "data"
MULTI30K = TEST_DATA / "multi30k"    # Multi30k's own file names: first 3000/200/200 lines
WMT14 = TEST_DATA / "wmt14"          # newstest2014 En-Fr SGML: its first 12 documents
BIN = Path(sys.executable).parent


def cli(name):
    """Path of a console script (fairseq-train, ...) installed next to this Python."""
    path = BIN / name
    if not path.exists():
        raise RuntimeError(f"{name} not found next to {sys.executable}: is fairseq installed?")
    return str(path)


def run(cmd, cwd=None, check=True, env=None):
    """Run a CLI; on failure show its output, so a red test says why."""
    full_env = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return proc


def binarize_lines(lines, dict_path, out_prefix):
    """Binarize text lines with an existing fairseq dictionary (hand-made splits)."""
    from fairseq.data import Dictionary, indexed_dataset
    d = Dictionary.load(str(dict_path))
    builder = indexed_dataset.make_builder(f"{out_prefix}.bin", impl="mmap", vocab_size=len(d))
    for line in lines:
        builder.add_item(d.encode_line(line, add_if_not_exist=False))
    builder.finalize(f"{out_prefix}.idx")


def _slice(src_gz, dst, n):
    with gzip.open(src_gz, "rt", encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i >= n:
                break
            # a crude tokenisation is enough for the CLI tests; data prep has its own tests
            g.write(line.replace(".", " .").replace(",", " ,"))


@pytest.fixture(scope="session")
def multi30k_bin(tmp_path_factory):
    """800 train / 100 valid / 100 test pairs of the real Multi30k, binarised."""
    d = tmp_path_factory.mktemp("m30k")
    for split, src, n in (("train", "train", 800), ("valid", "val", 100), ("test", "test_2016_flickr", 100)):
        for lang in ("en", "fr"):
            _slice(MULTI30K / f"{src}.{lang}.gz", d / f"{split}.{lang}", n)
    run([cli("fairseq-preprocess"), "--source-lang", "en", "--target-lang", "fr",
         "--trainpref", d / "train", "--validpref", d / "valid", "--testpref", d / "test",
         "--destdir", d / "bin", "--nwordssrc", "1000", "--nwordstgt", "800", "--workers", "1"])
    return d


TRAIN_TINY = ["--arch", "sutskever_lstm_tiny", "--optimizer", "sgd", "--lr", "0.7",
              "--lr-scheduler", "sutskever_halving", "--halve-after-epochs", "1",
              "--batch-size", "128", "--sentence-avg", "--clip-norm", "5",
              "--max-epoch", "2", "--no-epoch-checkpoints", "--cpu", "--seed", "1",
              "--log-format", "simple", "--log-interval", "5"]


@pytest.fixture(scope="session")
def tiny_checkpoints(multi30k_bin):
    """A forward (translation) and a reversed (translation_reversed) tiny model."""
    out = {}
    for name, task in (("forward", "translation"), ("reversed", "translation_reversed")):
        save = multi30k_bin / f"ckpt_{name}"
        run([cli("fairseq-train"), multi30k_bin / "bin", "--user-dir", PLUGIN, "--task", task,
             "--save-dir", save, *TRAIN_TINY])
        out[name] = save / "checkpoint_last.pt"
    return out


# the tiny scale of Table 1 reads the first 2000/200/200 lines of the committed Multi30k slice
TINY = ("scripts/reproduce_table1.sh", "--scale", "tiny", "--raw-dir", MULTI30K.relative_to(REPO), "--work")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The fast tier's one pipeline: ``bash scripts/reproduce_table1.sh --scale tiny`` (data,
    8 trainings, every decode of Table 1), run once per session: (work dir, its process).
    Tests read it, rerun it (every step skipped) or evaluate a test set of their own in it;
    a test that changes its models or inputs works on a copy (``work_copy`` in
    test_reproduce_table1.py)."""
    work = tmp_path_factory.mktemp("tiny") / "work"
    cmd = ["bash", TINY[0], *map(str, TINY[1:]), str(work)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode})\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return work, proc


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """A skip is a failure: a test that cannot run says so in red, with the reason.
    pytest's xfail (also reported as "skipped", with ``wasxfail``) keeps its meaning."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which this suite counts as a failure: {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at import (``pytest.importorskip``,
    ``pytest.skip(allow_module_level=True)``)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped, which this suite counts as a failure: {_skip_reason(report)}"


def _skip_reason(report):
    # a skip's longrepr is (file, line, "Skipped: reason")
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, lineno, reason = longrepr
        return f"{reason} ({path}:{lineno})"
    return str(longrepr)
