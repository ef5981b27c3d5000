"""The paper-scale pipeline end to end on the CPU (issue 17): ``reproduce_table1.sh
--scale paper`` on a stand-in corpus laid out exactly as WMT'14, at sizes a CPU finishes.

Same code path as the paper's run except for the sizes: the WMT'14 data preparation
(Schwenk-style training files detokenized and tokenized again, the dev sets from their
SGML, newstest2014 from its SGML as the test set, top-N vocabularies), the paper's
recipe flags, fairseq's data-parallel training over two CPU workers (gloo), test
perplexities, every decode of Table 1 and its BLEU. The stand-in: Multi30k training text
(tests/data) as the training files, Multi30k validation text written as the
newstest2012/2013 SGML, and the first documents of the newstest2014 slice as the test set.
"""
import csv
import json
import re
import subprocess
import sys

import pytest

from conftest import REPO
from sutskever_plugin.data import stand_in as stand_in_corpus
from sutskever_plugin.data.sgml import parse_sgml

# the paper-scale CPU run (about 10 min on 2 cores) is set up inside the first test that uses it
pytestmark = pytest.mark.timeout(2400)

TEST_DOCS = 2  # newstest2014 documents decoded (seven decodes of beam up to 12)


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    """RAW/bitexts/, RAW/dev/, RAW/test-full/: WMT'14's three archives, unpacked."""
    raw = tmp_path_factory.mktemp("wmt14_stand_in")
    return raw, stand_in_corpus.build(raw, train_lines=1500, test_docs=TEST_DOCS)


@pytest.fixture(scope="module")
def paper_run(stand_in, tmp_path_factory):
    raw, n_test = stand_in
    work = tmp_path_factory.mktemp("paper") / "work"
    cmd = ["bash", "scripts/reproduce_table1.sh", "--scale", "paper", "--cpu", "--gpus", "2",
           "--raw-dir", str(raw), "--work", str(work), "--nwords-src", "1200",
           "--nwords-tgt", "1600", "--layers", "2", "--dim", "32", "--max-update", "3",
           "--decode-jobs", "2"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return work, n_test, proc.stdout + proc.stderr, " ".join(cmd[1:])


@pytest.mark.slow
def test_data_prepared_as_for_the_paper(paper_run):
    work, n_test, _, _ = paper_run
    summary = json.loads((work / "data" / "summary.json").read_text())
    assert summary["dataset"] == "wmt14" and summary["scale"] == "paper"
    sp = summary["splits"]
    assert sp["train"]["lines"] == 1500 and sp["valid"]["lines"] == 80 and sp["test"]["lines"] == n_test
    # top-N vocabularies (here 1200 / 1600 entries: the source has fewer distinct words)
    assert len((work / "data" / "bin" / "dict.en.txt").read_text().splitlines()) <= 1200
    # (dict.*.txt lists the words without the 4 specials fairseq adds)
    assert len((work / "data" / "bin" / "dict.fr.txt").read_text().splitlines()) == 1600 - 4
    # dev from its SGML, test = newstest2014 from its SGML, ids and order kept
    assert (work / "data" / "sgml" / "newstest2012.ids").read_text().splitlines()[0] == "newstest2012-doc0\t1"
    assert (work / "data" / "raw" / "test.en").read_text().splitlines()[0] == "Spectacular Wingsuit Jump Over Bogota"
    assert len((work / "data" / "sgml" / "newstest2014.ids").read_text().splitlines()) == n_test


@pytest.mark.slow
def test_trained_with_the_paper_recipe_over_two_cpu_workers(paper_run):
    work, _, out, _ = paper_run
    assert "paper scale on 2 CPU workers: --sparse-embedding-grads off" in out
    for name in ("attention", "forward", "reversed1", "reversed2", "reversed3", "reversed4", "reversed5"):
        log = (work / "logs" / f"train_{name}.log").read_text()
        assert "distributed init (rank 0): tcp://127.0.0.1:" in log, name
        assert "training on 2 devices" in log, name
        assert re.search(r"num_updates 3\b", log) or "num_updates=3" in log, name
        assert (work / "logs" / f"train_{name}.log.rank1").exists(), name
        assert (work / "models" / f"{name}.pt").exists(), name
    md = (work / "results" / "table1.md").read_text()
    # the recipe the table names: the paper's, with 128 sentences an update (2 x 64)
    assert ("--optimizer sutskever_sgd lr 0.7, batch 128 sentences, --sentence-avg --clip-norm 5"
            in md and "lr halved every 0.5 epoch(s) after 5" in md), md
    assert "3 updates (--max-update" in md and "2 layers x 32 cells" in md


@pytest.mark.slow
def test_every_table1_row_decoded_and_scored(paper_run):
    work, n_test, _, command = paper_run
    with open(work / "results" / "table1.csv") as f:
        rows = {r["method"]: r for r in csv.DictReader(f)}
    for name in ("Single forward LSTM, beam size 12", "Single reversed LSTM, beam size 12",
                 "Ensemble of 5 reversed LSTMs, beam size 1", "Ensemble of 2 reversed LSTMs, beam size 12",
                 "Ensemble of 5 reversed LSTMs, beam size 2", "Ensemble of 5 reversed LSTMs, beam size 12",
                 "Bahdanau et al. [2]"):
        assert float(rows[name]["ours"]) >= 0 and "nrefs:1" in rows[name]["sacrebleu_signature"], name
    assert float(rows["Test perplexity, single reversed LSTM"]["ours"]) > 1
    for decode in ("forward_beam12", "ens5_beam12", "attention_beam12"):
        assert len((work / "decode" / f"{decode}.tok").read_text().splitlines()) == n_test
    md = (work / "results" / "table1.md").read_text()
    assert f"Generated by `bash {command}`" in md
    assert not (REPO / "results" / "table1_notes_paper.md").exists()  # nothing written to results/


def dry_run(*args, work):
    proc = subprocess.run(["bash", "scripts/reproduce_table1.sh", "--scale", "paper", "--dry-run",
                           "--work", str(work), *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, [l for l in proc.stdout.splitlines() if "fairseq-train" in l and "--save-dir" in l]


@pytest.mark.slow
def test_cpu_launch_per_worker_count(tmp_path):
    # one CPU process: the recipe with sparse embedding gradients (tested and measured on CPU)
    _, trains = dry_run("--cpu", work=tmp_path / "one")
    assert len(trains) == 8 and all("--cpu" in l and "--distributed-rank" not in l for l in trains)
    assert sum("--sparse-embedding-grads" in l for l in trains) == 7  # not fairseq's lstm
    assert all("--batch-size 128 " in l for l in trains)
    # two CPU workers: two ranks per training, gloo, dense gradients, 2 x 64 sentences
    out, trains = dry_run("--cpu", "--gpus", "2", work=tmp_path / "two")
    assert len(trains) == 16 and not any("--sparse-embedding-grads" in l for l in trains)
    for line in trains:
        for flag in ("--cpu", "--distributed-world-size 2", "--distributed-backend gloo",
                     "--ddp-backend legacy_ddp", "--distributed-no-spawn", "--batch-size 64 "):
            assert flag in line, (flag, line)
    assert sorted(re.search(r"--distributed-rank (\d)", l).group(1) for l in trains) == ["0"] * 8 + ["1"] * 8
    assert "--sparse-embedding-grads off (data parallelism" in out
    # on GPUs fairseq-train launches its workers itself (spawn), without --cpu
    _, trains = dry_run("--gpus", "8", work=tmp_path / "gpu")
    assert len(trains) == 8 and not any("--cpu" in l or "--distributed-rank" in l for l in trains)


@pytest.mark.slow
def test_test_perplexities_and_decodes_ran_decode_jobs_at_a_time(paper_run):
    # --decode-jobs 2: the pipeline's own step log (start, end, status, name) shows test
    # perplexities and decodes running beside each other, the trainings one at a time
    work = paper_run[0]
    rows = [l.split("\t") for l in (work / "logs" / "steps.tsv").read_text().splitlines()]
    spans = {name: (start, end) for start, end, _, status, name in rows if status == "done"}
    tail = [s for n, s in spans.items() if n.startswith(("test perplexity", "decode"))]
    trains = sorted(s for n, s in spans.items() if n.startswith("train "))
    assert len(tail) >= 15 and len(trains) == 8, spans
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(tail) for b in tail[i + 1:]), spans
    assert all(a[1] <= b[0] for a, b in zip(trains, trains[1:])), trains


def test_paper_options_are_refused_at_other_scales():
    proc = subprocess.run(["bash", "scripts/reproduce_table1.sh", "--scale", "tiny", "--max-update", "3"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "are paper-scale options" in proc.stderr
    proc = subprocess.run(["bash", "scripts/reproduce_table1.sh", "--scale", "small", "--decode-jobs", "2"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "--decode-jobs are paper-scale options" in proc.stderr
    proc = subprocess.run(["bash", "scripts/reproduce_table1.sh", "--scale", "paper", "--decode-jobs", "0",
                           "--dry-run"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "--decode-jobs must be an integer >= 1 (got '0')" in proc.stderr


def test_stand_in_cli_lays_out_wmt14(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sutskever_plugin.data.stand_in", "--out", str(tmp_path / "s")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert int(proc.stdout.split()[-1]) > 0  # the test set's segments
    for f in ("bitexts/bitexts.selected/nc9.en.gz", "dev/dev/newstest2013-ref.fr.sgm",
              "test-full/test-full/newstest2014-fren-src.en.sgm"):
        assert (tmp_path / "s" / f).is_file(), f


def test_stand_in_sgml_escapes_what_xml_reserves(tmp_path):
    # WMT SGML carries "&", "<" and ">" as entities; the preparation reads them back
    text = ['Tom & Jerry <3 "quotes" > all', "plain"]
    path = tmp_path / "t-src.en.sgm"
    stand_in_corpus.write_sgml(path, "src", "t", "en", [("d1", text)])
    assert "Tom &amp; Jerry &lt;3" in path.read_text(encoding="utf-8")
    assert [seg.text for seg in parse_sgml(str(path))] == text
