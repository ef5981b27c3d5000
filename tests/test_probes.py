"""The probe list: bad inputs and faults as a skeptical new user tries them (issue 40),
one row each, run as a table.  A row is the input, the command a user runs, the exit
status and the line they read: for a failure the first error line (``[tag] FAILED: ...``
of a script, ``error: ...`` of a Python command), exactly, with no traceback anywhere;
for a right result a line of the output that shows it.  The next round of probing adds
rows here, not test files.

docs/errors.md, the table of what each bad input gets, is generated from these rows::

    .venv/bin/python tests/test_probes.py --write-docs

and ``test_docs_errors_md_is_up_to_date`` fails when it is stale.

In the rows, ``{d}`` is the probe's own directory (DIR in the docs), ``{int}`` any whole
number and ``{*}`` any text (a pid, a host, a time, a digest); other names are values
the row's setup computes.  Rows that share a command and a setup share one run.  Most
probes stop at option checking; the others build the smallest thing that shows the case
(a lock held by a shell, a token-score file written directly, a truncated file), never a
pipeline run.  Python commands marked ``in_process`` run in this process (their module's
``main``, with the one-line hook of sutskever_plugin.errors emulated), to spare a
fairseq import each.
"""
import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "errors.md"
TINY_RAW = "tests/data/multi30k"   # the committed Multi30k slice (never a download)


@dataclass
class Probe:
    id: str
    issue: str             # the item of issue 40 (or the area) it belongs to
    input: str             # the bad input or fault, as a user would say it
    cmd: Sequence[str]     # what they run, from the repository root
    exit: int
    line: str              # exit != 0: the first error line; exit 0: a line containing it
    setup: Optional[Callable] = None   # setup(d) -> {name: value, "cleanup": fn} or None
    in_process: bool = False
    unprivileged: bool = False  # run without root's override of file permissions


def ev(*args):
    return ["bash", "scripts/evaluate.sh", *args]


def t1(*args):
    return ["bash", "scripts/reproduce_table1.sh", *args]


def rescore(*args):
    return ["python", "-m", "sutskever_plugin.rescoring.rescore", *args,
            "--out-nbest", "{d}/out.nbest", "--out-1best", "{d}/out.1best"]


# ----------------------------------------------------------------------------- setups


def same_file(d):
    (d / "src.en").write_text("A man runs .\n")
    os.symlink("src.en", d / "ref.fr")
    (d / "copy.fr").write_text("A man runs .\n")


# a step of lib.sh as evaluate.sh runs its "prepare" (keyed on the --ref file's contents)
STEP = ["bash", "-c", "TAG=evaluate; source scripts/lib.sh; digest_cache {d}/w; "
        "step \"prepare x\" {d}/w/x.json --inputs {d}/ref.fr -- cp {d}/ref.fr {d}/w/x.json"]


def _made_then(d, change):
    """A step made from ref.fr (its digest cached), then ref.fr changed by ``change``."""
    (d / "w").mkdir()
    (d / "ref.fr").write_text("Un homme court .\n")
    subprocess.run([_fill(c, {"d": str(d)}) for c in STEP], cwd=REPO, check=True, capture_output=True)
    change(d / "ref.fr")


def edited_in_place(d):
    def change(f):
        st = os.stat(f)
        with open(f, "r+b") as g:  # same length, same inode
            g.write(b"Un chien")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    _made_then(d, change)


def copied_over(d):
    def change(f):
        (d / "other.fr").write_text("Un chien court .\n")  # same size
        os.utime(d / "other.fr", ns=(os.stat(f).st_atime_ns, os.stat(f).st_mtime_ns))
        subprocess.run(["cp", "-p", str(d / "other.fr"), str(f)], check=True)
    _made_then(d, change)


SOURCES = ["A man runs .", "A dog is with a child .", "A woman is in the park ."]
OTHER_SOURCES = ["A cat runs .", "A boy is with a girl .", "A man is in the house ."]
HYPS = [["Un homme court .", "homme court ."], ["Un chien est avec un enfant .", "chien ."],
        ["Une femme est dans le parc .", "femme parc ."]]


def _nbest(path, hyps):
    with open(path, "w", encoding="utf-8") as f:
        for sid, block in enumerate(hyps):
            for k, h in enumerate(block):
                f.write(f"{sid} ||| {h} ||| LM0= {-2.0 - k} ||| {-k}\n")


def token_score_files(d):
    """r1.npz: token scores of test.nbest for src.en, written as rescore writes them (no
    model run); beside it another source of the same length, another n-best list, a
    truncated copy."""
    import numpy as np
    from sutskever_plugin.rescoring import token_scores as ts

    (d / "src.en").write_text("\n".join(SOURCES) + "\n")
    (d / "src2.en").write_text("\n".join(OTHER_SOURCES) + "\n")
    _nbest(d / "test.nbest", HYPS)
    _nbest(d / "other.nbest", [list(reversed(b)) + ["x ."] for b in HYPS])
    pairs = [(sid, h) for sid, block in enumerate(HYPS) for h in block]
    rng = np.random.default_rng(0)
    scores = ts.ListScores.from_positional(
        pairs, [-rng.random(len(h.split()) + 1) for _, h in pairs])
    counts = {"unk_tokens": 0, "tokens": 10, "unk_types": 0}
    ts.save(str(d / "r1.npz"), {"test": scores}, {
        "model": "reversed1.pt", "task": "TranslationReversedTask", "reversed_source": True,
        "nbest": str(d / "test.nbest"), "unk": {"test": [counts, counts]},
        "inputs": {"test": {**ts.list_digests(SOURCES, pairs), "source_file": str(d / "src.en"),
                            "nbest_file": str(d / "test.nbest")}}}, seconds=1.0)
    data = (d / "r1.npz").read_bytes()
    (d / "truncated.npz").write_bytes(data[: len(data) // 2])


def truncated_model(d):
    """WORK/models/forward.pt cut short (the start of a zip archive, as torch.save writes)."""
    (d / "src.en").write_text("\n".join(SOURCES) + "\n")
    _nbest(d / "test.nbest", HYPS)
    (d / "w" / "models").mkdir(parents=True)
    (d / "w" / "models" / "forward.pt").write_bytes(b"PK\x03\x04" + bytes(4000))


def read_only_results(d):
    (d / "w").mkdir()
    (d / "ro").mkdir()
    os.chmod(d / "ro", 0o555)
    return {"cleanup": lambda: os.chmod(d / "ro", 0o755)}


def work_is_a_file(d):
    (d / "file").write_text("not a directory\n")


def _hold_lock(d, body):
    """A shell holding {d}/w's lock as a pipeline script does (lib.sh lock_work)."""
    script = (f"TAG=table1; COMMAND='bash scripts/reproduce_table1.sh --scale tiny'; "
              f"source scripts/lib.sh; lock_work {d}/w; {body}")
    return subprocess.Popen(["bash", "-c", script], cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(cond, what, timeout=30):
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def lock_held(d):
    holder = _hold_lock(d, "sleep 120")
    _wait_for(lambda: (d / "w" / ".lock").exists() and (d / "w" / ".lock").read_text(), "the lock")

    def cleanup():
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    return {"cleanup": cleanup}


def lock_held_by_orphans(d):
    """The holder killed with kill -9, a process it started still running (and writing)."""
    holder = _hold_lock(d, f"sleep 120 & echo $! > {d}/child.pid; kill -9 $$")
    holder.wait()
    _wait_for(lambda: (d / "child.pid").exists() and (d / "child.pid").read_text().strip(), "the child")
    child = int((d / "child.pid").read_text())
    return {"cleanup": lambda: os.kill(child, signal.SIGKILL)}


def stale_lock_and_stale_decode(d):
    """A work dir under a path with a space, whose decode was made from a model changed
    since, and whose lock a run killed with kill -9 left behind (the kernel released it)."""
    from sutskever_plugin import steps

    w = d / "my work"
    for sub in ("data", "models", "decode"):
        (w / sub).mkdir(parents=True)
    (w / "data" / "summary.json").write_text("{}")
    (w / "models" / "forward.pt").write_bytes(b"model A")
    (w / "decode" / "forward_beam12.json").write_text("{}")
    steps.atomic_write(str(w / "decode" / "forward_beam12.json.key"), steps.step_key(
        ["decode"], [str(w / "models" / "forward.pt")], cache_path="", base=str(w / "decode")))
    (w / "models" / "forward.pt").write_bytes(b"model B")  # retrained, decode not redone
    killed = subprocess.Popen(["bash", "-c", "TAG=analysis; source scripts/lib.sh; lock_work \"$1\"; "
                               "kill -9 $$", "_", str(w)], cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    killed.wait()
    assert (w / ".lock").read_text().startswith("pid ")


def small_epochs(d):
    """The updates of 8 epochs of the small scale's batches over its nominal 29000 pairs
    (what a dry run counts before the data exist)."""
    from sutskever_plugin.job import updates_for_epochs

    batch = subprocess.run(["bash", "-c", "source scripts/recipe_small.sh; echo $SMALL_BATCH"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    return {"upd8": str(updates_for_epochs(29000, int(batch), 8))}


# ----------------------------------------------------------------------------- the rows

PAPER_ZEROS = t1("--scale", "paper", "--dry-run", "--work", "{d}/w", "--gpus", "08",
                 "--forward-seeds", "03", "--nwords-src", "0120", "--nwords-tgt", "0160",
                 "--layers", "02", "--dim", "016", "--max-update", "010", "--decode-jobs", "02")
PAPER_SCRIPT_ZEROS = ["bash", "scripts/reproduce_paper.sh", "--scale", "small", "--dry-run",
                      "--work", "{d}/w", "--epochs", "08", "--forward-seeds", "03", "--nbest", "010"]
QUALITY_ZEROS = ["bash", "scripts/benchmark.sh", "--quality", "--scale", "tiny", "--work", "{d}/w",
                 "--hidden", "016", "--embed", "08", "--seed", "00", "--validate-interval-updates",
                 "010", "--cores", "01,01"]
INT = ["bash", "-c", "TAG=lib; source scripts/lib.sh; X=$1; int_opt X --option 1; echo \"$1 is $X\"", "_"]
TOKEN_RESCORE = dict(setup=token_score_files, in_process=True)

PROBES: List[Probe] = [
    # 1. integer options: one parser (lib.sh int_opt), base 10 always
    Probe("int-08", "integers", "an integer option written 08 (bash would read it as octal)",
          [*INT, "08"], 0, "08 is 8"),
    Probe("int-00", "integers", "0 written 00, where at least 1 is needed",
          [*INT, "00"], 1, "[lib] FAILED: --option must be an integer >= 1 (got '00')"),
    Probe("int-hex", "integers", "a hexadecimal or signed number", [*INT, "0x10"], 1,
          "[lib] FAILED: --option must be an integer >= 1 (got '0x10')"),
    Probe("int-huge", "integers", "a number past bash's 64-bit arithmetic",
          [*INT, "99999999999999999999"], 1,
          "[lib] FAILED: --option must be an integer >= 1 (got '99999999999999999999')"),
    Probe("t1-gpus-08", "integers", "reproduce_table1.sh --gpus 08 (paper scale)", PAPER_ZEROS, 0,
          "--batch-size 16 --sentence-avg --clip-norm 5 --max-update 10 "),
    Probe("t1-gpus-08-world", "integers", "reproduce_table1.sh --gpus 08: the world size", PAPER_ZEROS, 0,
          "--distributed-world-size 8 "),
    Probe("t1-forward-seeds-03", "integers", "reproduce_table1.sh --forward-seeds 03", PAPER_ZEROS, 0,
          "--seed 3 --save-dir {d}/w/checkpoints/forward3 "),
    Probe("t1-nwords-src-0120", "integers", "reproduce_table1.sh --nwords-src 0120", PAPER_ZEROS, 0,
          "--nwordssrc 120 "),
    Probe("t1-nwords-tgt-0160", "integers", "reproduce_table1.sh --nwords-tgt 0160", PAPER_ZEROS, 0,
          "--nwordstgt 160 "),
    Probe("t1-layers-02", "integers", "reproduce_table1.sh --layers 02", PAPER_ZEROS, 0,
          "--encoder-layers 2 --decoder-layers 2 "),
    Probe("t1-dim-016", "integers", "reproduce_table1.sh --dim 016", PAPER_ZEROS, 0,
          "--encoder-hidden-size 16 --decoder-hidden-size 16 "),
    Probe("t1-max-update-010", "integers", "reproduce_table1.sh --max-update 010", PAPER_ZEROS, 0,
          "--max-update 10 "),
    Probe("t1-decode-jobs-00", "integers", "reproduce_table1.sh --decode-jobs 00 (02 is taken above)",
          t1("--scale", "paper", "--dry-run", "--decode-jobs", "00"), 1,
          "[table1] FAILED: --decode-jobs must be an integer >= 1 (got '00')"),
    Probe("t1-epochs-08", "integers", "reproduce_paper.sh --epochs 08, passed on to "
          "reproduce_table1.sh (small scale): N the updates of 8 epochs", PAPER_SCRIPT_ZEROS, 0, "--max-update {upd8} ",
          setup=small_epochs),
    Probe("paper-forward-seeds-03", "integers", "reproduce_paper.sh --forward-seeds 03",
          PAPER_SCRIPT_ZEROS, 0, "--save-dir {d}/w/checkpoints/forward3 ", setup=small_epochs),
    Probe("paper-nbest-010", "integers", "reproduce_paper.sh --nbest 010", PAPER_SCRIPT_ZEROS, 0,
          "bash scripts/reproduce_table2.sh --scale small --work {d}/w --nbest 10 ", setup=small_epochs),
    Probe("t2-nbest-010", "integers", "reproduce_table2.sh --nbest 010 (accepted; no data yet)",
          ["bash", "scripts/reproduce_table2.sh", "--scale", "tiny", "--work", "{d}/w", "--nbest", "010"], 1,
          "[table2] FAILED: missing {d}/w/data/tok/test.en: run 'bash scripts/reproduce_table1.sh "
          "--scale tiny' first (it prepares the data)"),
    Probe("quality-zeros", "integers", "benchmark.sh --quality with --hidden 016 --embed 08 --seed 00 "
          "--validate-interval-updates 010 --cores 01,01", QUALITY_ZEROS, 1,
          "[quality] FAILED: --cores 1,1: the two trainings need a core each"),
    Probe("tune-probe-updates-060", "integers", "tune_small.sh --epochs 08 --probe-updates 060",
          ["bash", "scripts/tune_small.sh", "--name", "x", "--epochs", "08", "--probe-updates", "060",
           "--work", "{d}/w", "--", "--arch", "sutskever_lstm_tiny"], 2,
          "tune_small.sh: error: --probe-updates must be a whole number of at least 100 (got '60'): "
          "the rate is read from update 50 on, at every 50th"),
    Probe("tune-epochs-08", "integers", "tune_small.sh --epochs 08 (accepted; no flags given)",
          ["bash", "scripts/tune_small.sh", "--name", "x", "--epochs", "08", "--work", "{d}/w"], 2,
          "tune_small.sh: error: give the candidate's fairseq-train flags after --"),
    Probe("gpu-check-updates-00", "integers", "gpu_check.sh --updates 00",
          ["bash", "scripts/gpu_check.sh", "{d}/out", "--updates", "00"], 1,
          "[gpu_check] FAILED: --updates must be an integer >= 1 (got '00')"),

    # 2. a cache keyed by content
    Probe("ref-edited-in-place", "cache", "evaluate.sh's --ref edited in place (same length) and "
          "its mtime restored, then the step rerun", STEP, 0,
          "[evaluate] prepare x: redoing it, its inputs or options changed since {d}/w/x.json was made",
          setup=edited_in_place),
    Probe("ref-cp-p-over", "cache", "another file of the same size copied over --ref with cp -p "
          "(its mtime kept), then the step rerun", STEP, 0,
          "[evaluate] prepare x: redoing it, its inputs or options changed since {d}/w/x.json was made",
          setup=copied_over),

    # 3. --ref the same file as --src
    Probe("ref-symlink-to-src", "same file", "--ref a symlink to --src",
          ev("--src", "{d}/src.en", "--ref", "{d}/ref.fr"), 1,
          "[evaluate] FAILED: --src {d}/src.en and --ref {d}/ref.fr are the same file ({d}/src.en, "
          "one inode): give the reference translations as --ref", setup=same_file),
    Probe("ref-double-slash", "same file", "--ref the --src file as dir//file",
          ev("--src", "{d}/src.en", "--ref", "{d}//src.en"), 1,
          "[evaluate] FAILED: --src {d}/src.en and --ref {d}//src.en are the same file ({d}/src.en, "
          "one inode): give the reference translations as --ref", setup=same_file),
    Probe("ref-copy-of-src", "same file", "--ref a copy of --src",
          ev("--src", "{d}/src.en", "--ref", "{d}/copy.fr"), 1,
          "[evaluate] FAILED: --src {d}/src.en and --ref {d}/copy.fr have the same contents: give the "
          "reference translations as --ref", setup=same_file),

    # 4. token scores tied to their source and n-best list
    Probe("token-scores-other-source", "token scores", "rescore --token-scores saved for src.en, "
          "given --source src2.en (same length, same n-best ids)",
          rescore("--token-scores", "{d}/r1.npz", "--source", "{d}/src2.en", "--nbest", "{d}/test.nbest"), 1,
          "error: {d}/r1.npz: its 'test' scores were computed for another source ({d}/src.en; sha256 of "
          "its sentences {*}, of these {*}), so they would score these hypotheses as translations of "
          "other sentences: score the model again on these lists (rescore --path MODEL "
          "--save-token-scores FILE; in a Table 2 run, delete the file and rerun "
          "scripts/reproduce_table2.sh, which does) (set SUTSKEVER_DEBUG=1 for the traceback)",
          **TOKEN_RESCORE),
    Probe("token-scores-other-nbest", "token scores", "rescore --token-scores for another n-best list",
          rescore("--token-scores", "{d}/r1.npz", "--source", "{d}/src.en", "--nbest", "{d}/other.nbest"), 1,
          "error: {d}/r1.npz: its 'test' list is not this n-best list (6 distinct hypotheses against 9; "
          "first difference at pair 0): score the model again on this list "
          "(set SUTSKEVER_DEBUG=1 for the traceback)", **TOKEN_RESCORE),
    Probe("token-scores-truncated", "token scores", "a truncated .npz of token scores",
          rescore("--token-scores", "{d}/truncated.npz", "--source", "{d}/src.en", "--nbest",
                  "{d}/test.nbest"), 1,
          "error: {d}/truncated.npz: not a token-score file of sutskever_plugin.rescoring.token_scores "
          "(truncated or damaged: {int} bytes, BadZipFile: {*}): score the model again on these lists "
          "(rescore --path MODEL --save-token-scores FILE; in a Table 2 run, delete the file and rerun "
          "scripts/reproduce_table2.sh, which does) (set SUTSKEVER_DEBUG=1 for the traceback)",
          **TOKEN_RESCORE),
    Probe("token-scores-missing", "token scores", "a missing .npz of token scores",
          rescore("--token-scores", "{d}/missing.npz", "--source", "{d}/src.en", "--nbest",
                  "{d}/test.nbest"), 1,
          "error: token scores not found: {d}/missing.npz: score the model again on these lists "
          "(rescore --path MODEL --save-token-scores FILE; in a Table 2 run, delete the file and rerun "
          "scripts/reproduce_table2.sh, which does) (set SUTSKEVER_DEBUG=1 for the traceback)",
          **TOKEN_RESCORE),

    # 5. a lock on the work directory
    Probe("lock-held", "lock", "a second reproduce_table1.sh on a work dir another run holds",
          t1("--scale", "tiny", "--work", "{d}/w"), 1,
          "[table1] FAILED: {d}/w is in use by another run (pid {int} on {*} since {*}: bash "
          "scripts/reproduce_table1.sh --scale tiny): wait for it to end, or give this run another --work",
          setup=lock_held),
    Probe("lock-held-by-orphans", "lock", "the holder killed with kill -9, a process it started "
          "still running", t1("--scale", "tiny", "--work", "{d}/w"), 1,
          "[table1] FAILED: {d}/w is in use by processes that a run which has ended started (pid {int} "
          "on {*} since {*}: bash scripts/reproduce_table1.sh --scale tiny), and they may still write "
          "there: wait for them or stop them, or give this run another --work",
          setup=lock_held_by_orphans),
    Probe("lock-inherited", "lock", "a script started by the run that holds the lock "
          "(reproduce_paper.sh runs the others)",
          ["bash", "-c", "TAG=paper; source scripts/lib.sh; lock_work {d}/w; bash -c \"TAG=table1; "
           "source scripts/lib.sh; lock_work {d}/w && echo held by its parent, inherited\""], 0,
          "held by its parent, inherited"),
    Probe("lock-stale", "lock", "the lock of a run killed with kill -9 (taken over: the run goes on "
          "to its next check)", ["bash", "scripts/analyze.sh", "--scale", "tiny", "--work", "{d}/my work"], 1,
          "[analysis] FAILED: forward_beam12 was made from {d}/my work/models/forward.pt, which has "
          "changed since (1 such inputs): rerun bash scripts/reproduce_table1.sh --scale tiny --work "
          "{d}/my\\ work (it redoes only the affected steps), then this",
          setup=stale_lock_and_stale_decode),

    # tracebacks where one line belongs
    Probe("results-read-only", "one line", "a read-only --results directory",
          t1("--scale", "tiny", "--dry-run", "--work", "{d}/w", "--results", "{d}/ro"), 1,
          "[table1] FAILED: --results {d}/ro: cannot write in {d}/ro (read-only, or not yours): give "
          "--results a directory you can write in, or make {d}/ro writable",
          setup=read_only_results, unprivileged=True),
    Probe("report-read-only", "one line", "a read-only output directory of a report",
          ["python", "-m", "sutskever_plugin.reporting.table1", "--work", "{d}/w", "--scale", "tiny",
           "--out", "{d}/ro"], 1,
          "error: cannot write in {d}/ro (Permission denied): make it writable, or give the command "
          "another output directory (set SUTSKEVER_DEBUG=1 for the traceback)",
          setup=read_only_results, unprivileged=True),
    Probe("work-is-a-file", "one line", "--work naming a regular file",
          t1("--scale", "tiny", "--work", "{d}/file"), 1,
          "[table1] FAILED: --work {d}/file is a file, not a directory: give --work a directory "
          "(it is created if missing)", setup=work_is_a_file),
    Probe("work-under-a-file", "one line", "--work under a regular file",
          ["bash", "scripts/analyze.sh", "--scale", "tiny", "--work", "{d}/file/w"], 1,
          "[analysis] FAILED: --work {d}/file/w: {d}/file is a file, not a directory: give --work a "
          "path under a directory", setup=work_is_a_file),
    Probe("model-truncated", "one line", "a truncated models/NAME.pt (rescored here; every command "
          "that loads it says the same)",
          ["python", "-m", "sutskever_plugin.rescoring.rescore", "--path", "{d}/w/models/forward.pt",
           "--source", "{d}/src.en", "--nbest", "{d}/test.nbest", "--cpu", "--out-nbest",
           "{d}/out.nbest", "--out-1best", "{d}/out.1best"], 1,
          "error: checkpoint {d}/w/models/forward.pt is truncated or corrupt (4004 bytes of a zip "
          "archive, torch's format, without its end-of-archive record: its writing was cut short): "
          "delete it and rerun bash scripts/reproduce_table1.sh with the options that made it (--work "
          "{d}/w): it makes forward.pt again from that training's checkpoints in {d}/w/checkpoints/forward "
          "(delete that directory too to train it anew; a rerun that finds the damaged file in place "
          "keeps it) (set SUTSKEVER_DEBUG=1 for the traceback)", setup=truncated_model, in_process=True),
    Probe("paper-epochs", "options", "reproduce_paper.sh --epochs 7 at the tiny scale: passed on to "
          "reproduce_table1.sh, which takes it at the small scale only (as above)",
          ["bash", "scripts/reproduce_paper.sh", "--scale", "tiny", "--dry-run", "--epochs", "7"], 1,
          "[table1] FAILED: --epochs is a small-scale option (tiny and paper train their recipe's epochs)"),
]


# ----------------------------------------------------------------------------- running


@dataclass
class Result:
    code: int
    out: str
    err: str
    subs: Dict[str, str] = field(default_factory=dict)


_RUNS: Dict[tuple, Result] = {}
ERROR_LINE = re.compile(r"^(error: |\[[\w-]+\] FAILED: |tune_small\.sh: error: )")


def _fill(text: str, subs: Dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: subs.get(m.group(1), m.group(0)), text)


def pattern(template: str, subs: Dict[str, str]) -> str:
    """The row's line as a regex: {int} a number, {*} anything, other names their values."""
    out = []
    for part in re.split(r"(\{\w+\}|\{\*\})", template):
        if part == "{int}":
            out.append(r"\d+")
        elif part == "{*}":
            out.append(r".*?")
        elif re.fullmatch(r"\{\w+\}", part) and part[1:-1] in subs:
            out.append(re.escape(subs[part[1:-1]]))
        else:
            out.append(re.escape(part))
    return "".join(out)


def _in_process(cmd: List[str]):
    """``python -m MODULE ARGS`` as its module's main(ARGS), output captured, with the
    exit status and the one-line hook of sutskever_plugin.errors as the process has them."""
    import importlib
    from sutskever_plugin import errors

    main = importlib.import_module(cmd[2]).main
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = 0 if main(cmd[3:]) else 1
        except SystemExit as e:
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except Exception as e:  # noqa: BLE001 - what the hook would print
            code = 1
            if errors.is_user_facing(e):
                print(errors.one_line(e) + f" (set {errors.DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
            else:
                traceback.print_exc()
    return code, out.getvalue(), err.getvalue()


def run_probe(probe: Probe, tmp_path_factory) -> Result:
    key = (tuple(probe.cmd), probe.setup, probe.unprivileged)
    if key in _RUNS:
        return _RUNS[key]
    d = tmp_path_factory.mktemp("probe")
    os.chmod(d, 0o755)
    subs = {"d": str(d)}
    extra = (probe.setup(d) if probe.setup else None) or {}
    cleanup = extra.pop("cleanup", None)
    subs.update(extra)
    cmd = [_fill(c, subs) for c in probe.cmd]
    try:
        if probe.in_process:
            code, out, err = _in_process(cmd)
        else:
            if cmd[0] == "python":
                cmd[0] = sys.executable
            if probe.unprivileged and os.geteuid() == 0:
                # root writes into a read-only directory: drop that power, as a user has none
                cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
            env = {k: v for k, v in os.environ.items()
                   if k not in ("SUTSKEVER_WORK_LOCK_FD", "SUTSKEVER_DIGEST_CACHE", "SUTSKEVER_DEBUG")}
            env["OMP_NUM_THREADS"] = "1"
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
            code, out, err = proc.returncode, proc.stdout, proc.stderr
    finally:
        if cleanup:
            cleanup()
    _RUNS[key] = Result(code, out, err, subs)
    return _RUNS[key]


def error_line(err: str) -> Optional[str]:
    return next((l for l in err.splitlines() if ERROR_LINE.match(l)), None)


@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_probe(probe, tmp_path_factory):
    res = run_probe(probe, tmp_path_factory)
    said = f"exit {res.code}\n--- stdout ---\n{res.out[-3000:]}\n--- stderr ---\n{res.err[-3000:]}"
    assert res.code == probe.exit, said
    want = pattern(probe.line, res.subs)
    if probe.exit:
        assert "Traceback" not in res.err, said
        line = error_line(res.err)
        assert line is not None and re.fullmatch(want, line), f"want: {_fill(probe.line, res.subs)}\n{said}"
    else:
        assert any(re.search(want, l) for l in res.out.splitlines()), f"want: {probe.line}\n{said}"


def test_probe_ids_are_unique():
    assert len({p.id for p in PROBES}) == len(PROBES)


# ----------------------------------------------------------------------------- the docs

DOC_NAMES = {"d": "DIR", "int": "N", "*": "…", "upd8": "N"}


def _doc(text: str) -> str:
    return re.sub(r"\{(\w+|\*)\}", lambda m: DOC_NAMES.get(m.group(1), m.group(1).upper()), text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_docs() -> str:
    lines = [
        "# What each bad input gets",
        "",
        "<!-- generated by `python tests/test_probes.py --write-docs` from the rows of",
        "     tests/test_probes.py (PROBES): edit those, not this file -->",
        "",
        "Each row is a bad input or a fault, the command it was given to, the exit status and",
        "what the command prints: for a failure the first error line (exactly, and never a",
        "traceback: set `SUTSKEVER_DEBUG=1` for one), for a right result the part of the",
        "output that shows it. `DIR` is a directory of the probe's own, `N` a number, `…` any",
        "text (a pid, a host, a time, a digest). Every row is a test (`tests/test_probes.py`);",
        "the next round of probing adds rows there, and this page follows.",
        "",
        "Integer options of every script are read by one parser (`int_opt` in",
        "`scripts/lib.sh`): base-10 digits only, leading zeros read in base 10 (`08` is eight),",
        "the value passed on in plain decimal. A pipeline holds its work directory",
        "(`WORK/.lock`, flock(1)): a second run there stops at once; the lock of a killed run",
        "is released by the kernel, so the next run simply takes it.",
        "",
    ]
    section = None
    titles = {"integers": "Integer options (issue 40: silent wrong results 1)",
              "cache": "A changed input under the same name, size and mtime (2)",
              "same file": "`--ref` the same file as `--src` (3)",
              "token scores": "Token scores for another source or n-best list (4, 7, 8)",
              "lock": "Two runs on one work directory (5)",
              "one line": "One line where a traceback was (6, 8, 9, and a truncated model)",
              "options": "Options passed between scripts"}
    for p in PROBES:
        if p.issue != section:
            section = p.issue
            lines += ["", f"## {titles.get(section, section)}", "",
                      "| Input | Command | Exit | What it prints |", "|---|---|---|---|"]
        cmd = " ".join(shlex.quote(c) if not re.search(r"\{\w+\}", c) or " " in c else c for c in p.cmd)
        shown = f"`{_doc(p.line)}`" if p.exit else f"the output shows `{_doc(p.line).strip()}`"
        lines.append(f"| {_cell(p.input)} | `{_cell(_doc(cmd))}` | {p.exit} | {_cell(shown)} |")
    return "\n".join(lines) + "\n"


def test_docs_errors_md_is_up_to_date():
    assert DOCS.exists() and DOCS.read_text(encoding="utf-8") == render_docs(), (
        "docs/errors.md is stale: run .venv/bin/python tests/test_probes.py --write-docs")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-docs"]:
        DOCS.parent.mkdir(exist_ok=True)
        DOCS.write_text(render_docs(), encoding="utf-8")
        print(f"wrote {DOCS}")
    else:
        sys.exit("usage: python tests/test_probes.py --write-docs")
