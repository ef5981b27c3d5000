"""sutskever_plugin/steps.py, the one finished-step key, and lib.sh's `step` on it."""
import os
import subprocess
import sys

import pytest

from conftest import REPO
from sutskever_plugin import steps

STEPS = str(REPO / "sutskever_plugin" / "steps.py")


def key(cmd, inputs):
    return steps.step_key(cmd, inputs, cache_path="").split("\n", 1)[0]


def digest(path):
    """A file's digest, through the cache of $SUTSKEVER_DIGEST_CACHE."""
    return steps.input_digests([str(path)])[str(path)]


def test_key_follows_contents_not_names_or_times(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "t.en").write_text("one\ntwo\n")
    (b / "t.en").write_text("uno\ndos\n")
    k = key(["prepare"], [a / "t.en"])
    assert key(["prepare"], [b / "t.en"]) != k           # same name, other sentences
    assert key(["prepare", "--beam", "2"], [a / "t.en"]) != k  # other options
    os.utime(a / "t.en", (0, 0))
    assert key(["prepare"], [a / "t.en"]) == k           # a touch changes nothing
    (a / "t.en").write_text("one\ntwX\n")                # same size, edited in place
    assert key(["prepare"], [a / "t.en"]) != k
    (a / "t.en").write_text("one\ntwo\n")
    assert key(["prepare"], [a / "t.en"]) == k


def test_directory_inputs_and_missing_inputs(tmp_path):
    d = tmp_path / "bin"
    d.mkdir()
    (d / "dict.en.txt").write_text("a 1\n")
    k = key(["x"], [d])
    (d / "half.tmp").write_text("being written")          # temporary files do not count
    (d / "dict.fr.txt.tmp-123").write_text("being written")  # (steps.atomic_path's)
    assert key(["x"], [d]) == k
    (d / "test.bin").write_bytes(b"\0")
    assert key(["x"], [d]) != k
    with pytest.raises(FileNotFoundError, match="input .*nope of the step does not exist"):
        key(["x"], [tmp_path / "nope"])


@pytest.fixture
def big_files(monkeypatch, tmp_path):
    """Files of 4 KiB and more count as big (cached), none as changed too recently to be;
    the cache in tmp_path; hashes counted."""
    monkeypatch.setattr(steps, "FULL_DIGEST_MAX_BYTES", 4096)
    monkeypatch.setattr(steps, "RACY_SECONDS", -1.0)
    monkeypatch.setenv("SUTSKEVER_DIGEST_CACHE", str(tmp_path / "cache.json"))
    hashed = []
    real = steps._hash_file
    monkeypatch.setattr(steps, "_hash_file", lambda p: hashed.append(p) or real(p))
    return hashed


def test_digest_cache_notices_an_edit(tmp_path, big_files):
    f, cache = tmp_path / "m.pt", tmp_path / "cache.json"
    f.write_bytes(b"model A" * 1000)
    d1 = digest(f)
    assert cache.exists() and digest(f) == d1
    assert len(big_files) == 1                           # the second time from the cache
    f.write_bytes(b"model B" * 1000)
    assert digest(f) != d1


def _same_size_edit_in_place(f, data):
    st = os.stat(f)
    with open(f, "r+b") as g:
        g.seek(len(data) // 2)
        g.write(data)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # its mtime restored
    return st


def test_digest_cache_is_keyed_by_content_not_size_and_mtime(tmp_path, big_files, monkeypatch):
    """Issue 40: an edit in place of the same length with the mtime restored, or another
    file of the same size copied over with cp -p, was served the old digest (the cache
    trusted size, mtime and inode). The ctime, which no user can set back, and a sample of
    the bytes are now part of what a cached digest is found by."""
    f = tmp_path / "ref.fr"
    f.write_bytes(bytes(range(256)) * 64)                # 16 KiB
    d1 = digest(f)
    # the sample left out (an edit it would miss in a large file): the ctime alone tells
    monkeypatch.setattr(steps, "_sample_digest", lambda path, size: "same")
    st = _same_size_edit_in_place(f, b"X")               # one byte, same size and mtime
    assert (os.stat(f).st_size, os.stat(f).st_mtime_ns, os.stat(f).st_ino) == (
        st.st_size, st.st_mtime_ns, st.st_ino)
    d2 = digest(f)
    assert d2 != d1 and d2 == steps._hash_file(str(f))
    other = tmp_path / "other.fr"
    other.write_bytes(bytes(reversed(range(256))) * 64)
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    subprocess.run(["cp", "-p", str(other), str(f)], check=True)
    assert digest(f) == steps._hash_file(str(other)) != d2
    n = len(big_files)
    digest(f)
    assert len(big_files) == n                           # unchanged: from the cache


def test_small_files_are_hashed_every_time_and_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("SUTSKEVER_DIGEST_CACHE", str(tmp_path / "cache.json"))
    f = tmp_path / "src.en"
    f.write_text("one\n")
    assert digest(f) == steps._hash_file(str(f))
    assert not (tmp_path / "cache.json").exists()


def test_a_file_changed_just_now_is_not_cached(tmp_path, big_files, monkeypatch):
    # a coarse clock could give the next edit the same times: hash it, keep nothing
    monkeypatch.setattr(steps, "RACY_SECONDS", 3600.0)
    f = tmp_path / "m.pt"
    f.write_bytes(b"m" * 8192)
    digest(f)
    digest(f)
    assert len(big_files) == 2 and not (tmp_path / "cache.json").exists()


def test_changed_inputs_of_a_finished_step(tmp_path):
    src, done = tmp_path / "src.txt", tmp_path / "out.json"
    src.write_text("x\n")
    done.write_text("{}")
    steps.atomic_write(str(done) + ".key", steps.step_key(["c"], [src], cache_path=""))
    assert steps.changed_inputs(str(done)) == []
    src.write_text("y\n")
    assert steps.changed_inputs(str(done)) == [str(src)]


def test_in_process_step(tmp_path):
    src, done = tmp_path / "a.txt", tmp_path / ".steps" / "s.json"
    src.write_text("x\n")
    made = []

    def run(options):
        return steps.Step(str(done), options, [src]).run(lambda: made.append(1) or {"lines": 1})

    assert run({"n": 1}) == ({"lines": 1}, True)
    assert run({"n": 1}) == ({"lines": 1}, False)          # from done_file, not made again
    assert run({"n": 2})[1]                                # another option
    src.write_text("y\n")
    assert run({"n": 2})[1]                                # other contents
    os.utime(src, (0, 0))
    assert not run({"n": 2})[1]                            # a touch changes nothing
    steps.Step(str(done), {"n": 2}, [src]).start()         # started, never recorded...
    assert not done.exists() and run({"n": 2})[1]          # ...is redone
    assert len(made) == 4
    src.write_text("z\n")                                 # the shell's `changed` reads it
    assert steps.changed_inputs(str(done)) == [str(src)]


def test_a_step_redone_to_the_same_output_redoes_nothing_after_it(tmp_path):
    raw, tok = tmp_path / "raw.txt", tmp_path / "tok.txt"
    raw.write_text("A b\n")

    def chain(option):
        ran = []
        steps.Step(str(tmp_path / "first.json"), option, [raw]).run(
            lambda: tok.write_text(raw.read_text().lower()) and ran.append("first") or {})
        steps.Step(str(tmp_path / "second.json"), {}, [tok]).run(lambda: ran.append("second") or {})
        return ran

    assert chain(1) == ["first", "second"]
    assert chain(2) == ["first"]                           # the same tok.txt: keyed by content
    raw.write_text("C d\n")
    assert chain(2) == ["first", "second"]


def lib_step(tmp_path, inp):
    """One `step` of scripts/lib.sh that appends a line to a log when it runs."""
    script = f"""
TAG=t
source {REPO}/scripts/lib.sh
work() {{ echo ran >> {tmp_path}/log; cp {inp} {tmp_path}/out.txt; }}
step "copy" {tmp_path}/out.txt --inputs {inp} -- work
"""
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_lib_step_reruns_exactly_when_inputs_change(tmp_path):
    inp = tmp_path / "in.txt"
    inp.write_text("1\n")
    assert "copy: done in" in lib_step(tmp_path, inp)
    assert "copy: already done, skipped" in lib_step(tmp_path, inp)
    inp.write_text("2\n")
    out = lib_step(tmp_path, inp)
    assert "redoing it, its inputs or options changed" in out and "copy: done in" in out
    assert (tmp_path / "out.txt").read_text() == "2\n"
    assert (tmp_path / "log").read_text().count("ran") == 2
    # a result without its key (made before keys existed, or interrupted) is redone
    os.remove(tmp_path / "out.txt.key")
    assert "copy: done in" in lib_step(tmp_path, inp)
    assert (tmp_path / "log").read_text().count("ran") == 3


def test_steps_script_imports_nothing_of_the_plugin(tmp_path):
    # it runs before every step: it must start without torch or fairseq
    code = (f"import runpy, sys; runpy.run_path({STEPS!r}, run_name='steps'); "
            "print('torch' in sys.modules, 'fairseq' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "False False", out.stderr


def test_a_copied_work_directory_checks_its_own_files(tmp_path):
    import shutil

    w = tmp_path / "w"
    (w / "decode").mkdir(parents=True)
    (w / "models").mkdir()
    (w / "models" / "m.pt").write_bytes(b"A")
    done = w / "decode" / "x.json"
    done.write_text("{}")
    steps.atomic_write(str(done) + ".key", steps.step_key(["c"], [w / "models" / "m.pt"], cache_path="",
                                                          base=str(w / "decode")))
    copy = tmp_path / "copy"
    shutil.copytree(w, copy)
    (copy / "models" / "m.pt").write_bytes(b"B")  # changed in the copy only
    assert steps.changed_inputs(str(copy / "decode" / "x.json")) == [
        str(copy / "models" / "m.pt")]
    assert steps.changed_inputs(str(done)) == []
