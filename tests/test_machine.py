"""machine.py: the commit stamp, on a throwaway git repository; the AMX flag."""
import subprocess
import sys

from conftest import PLUGIN, REPO

from sutskever_plugin.machine import NOT_A_CHECKOUT, commit, has_amx


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], capture_output=True, text=True, check=True).stdout.strip()


def test_commit_is_the_short_head_and_dirty_only_for_tracked_code(tmp_path):
    repo = tmp_path / "repo"
    (repo / "results").mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n")
    (repo / "results" / "table.md").write_text("old\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "--short", "HEAD")
    assert commit(str(repo)) == head
    # a rewritten results file and an untracked file leave the code as committed
    (repo / "results" / "table.md").write_text("new\n")
    (repo / "scratch.txt").write_text("notes\n")
    assert commit(str(repo)) == head
    # an edited tracked source file does not
    (repo / "code.py").write_text("x = 2\n")
    assert commit(str(repo)) == head + "+dirty"
    git(repo, "commit", "-q", "-am", "two")
    assert commit(str(repo)) == git(repo, "rev-parse", "--short", "HEAD") != head


def test_commit_outside_a_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("SUTSKEVER_COMMIT", raising=False)
    assert commit(str(tmp_path)) == NOT_A_CHECKOUT


def test_a_stated_commit_wins_inside_and_outside_a_checkout(tmp_path, monkeypatch):
    # a copy of a checkout sent to a lent GPU machine (scripts/gpu_check.sh): without
    # .git, or with an older commit's .git beneath newer files, the commit as stated
    monkeypatch.setenv("SUTSKEVER_COMMIT", "abc1234")
    assert commit(str(tmp_path)) == "abc1234 (stated)"
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.txt").write_text("a")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-q", "-m", "one")
    assert commit(str(repo)) == "abc1234 (stated)"
    monkeypatch.delenv("SUTSKEVER_COMMIT")
    assert commit(str(repo)) == git(repo, "rev-parse", "--short", "HEAD")


def test_has_amx_reads_the_cpu_flags(tmp_path):
    """The bf16 report says whether the CPU it ran on has AMX (its bf16 matmul rate, the
    MFU denominator, differs several times between CPUs with and without it)."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx512_bf16 amx_bf16 amx_tile\n")
    assert has_amx(str(info))
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512_bf16 avx512f\n")
    assert not has_amx(str(info))
    assert not has_amx(str(tmp_path / "missing"))


def test_commit_as_the_scripts_call_it():
    # python sutskever_plugin/machine.py commit: reproduce_table1.sh's models' stamp
    env = {"SUTSKEVER_COMMIT": "abc1234", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, str(PLUGIN / "machine.py"), "commit"], capture_output=True,
                         text=True, check=True, env=env, cwd=REPO).stdout
    assert out == "abc1234 (stated)\n"
    bad = subprocess.run([sys.executable, str(PLUGIN / "machine.py")], capture_output=True, text=True)
    assert bad.returncode != 0 and "usage" in bad.stderr
