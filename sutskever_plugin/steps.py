"""Finished-step bookkeeping shared by every pipeline: a step is skipped only when its
result exists *and* was made from the same inputs.

A step's key is the sha256 of what determines its output: the step's command (its
options) and the contents of its input files (data, dictionaries, models; a directory
counts with every file under it).  Its record ``DONE_FILE.key`` holds the key on its
first line (then one ``digest  path`` line per input, for people) and is written,
atomically, after the step's own result.  A rerun redoes the step when the record is
missing or its key differs: a test file edited in place, another file under the same
name, a retrained model or a changed option all redo exactly the steps they feed.
A redone step whose outputs come out byte for byte the same therefore redoes nothing
after it: steps are keyed on their inputs' contents, never on when they ran.

Users: ``scripts/lib.sh`` (``step``, ``step_fresh``/``step_done``) and
``scripts/analyze.sh`` run this file as a script (verbs ``key`` and ``changed``; it
imports nothing of the plugin, so it starts without torch or fairseq); the in-process
steps of the data preparation and of the SMT build use :class:`Step`.

Every digest is of a file's bytes.  A file under :data:`FULL_DIGEST_MAX_BYTES` (64 MiB,
a fraction of a second of sha256) is hashed in full each time it is asked for: nothing
about it is trusted but its contents.  A larger one (paper-scale models and corpora, where
hashing every input of every step would cost minutes a run) is hashed in full once and
then found in the JSON cache named by ``$SUTSKEVER_DIGEST_CACHE`` (the scripts set
``WORK/.digests.json``) under its identity: resolved path, size, inode, modification and
status-change times in nanoseconds, and the sha256 of a sample of its bytes (its first
and last MiB and 16 blocks of 64 KiB between).  The trade, for those files only: an edit
that keeps the size and every sampled byte *and* leaves both times as they were goes
unnoticed.  The status-change time (ctime) cannot be set back from user space: an edit
in place, ``touch -d``, ``cp -p`` or ``rsync -t`` over the file, even ``os.utime``
restoring the old mtime, each move it to now.  A file changed within
:data:`RACY_SECONDS` of its hashing is not cached (a coarse clock could give the next
edit the same times, as git's "racy" index entries).
"""
import contextlib
import hashlib
import json
import os
import re
import sys
import time
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

_CACHE_ENV = "SUTSKEVER_DIGEST_CACHE"
FULL_DIGEST_MAX_BYTES = 64 << 20  # smaller files: hashed in full every time, never cached
RACY_SECONDS = 2.0                # a file changed this recently is hashed, not cached
_SAMPLE_BLOCKS, _SAMPLE_BLOCK, _SAMPLE_END = 16, 64 << 10, 1 << 20
_TEMPORARY = re.compile(r"\.tmp(-\d+)?$")  # a file being written counts for no key


def _hash_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sample_digest(path: str, size: int) -> str:
    """sha256 of the first and last MiB and of 16 evenly spaced 64 KiB blocks between."""
    h = hashlib.sha256()
    step = max(1, (size - 2 * _SAMPLE_END) // (_SAMPLE_BLOCKS + 1))
    with open(path, "rb") as f:
        h.update(f.read(_SAMPLE_END))
        for k in range(1, _SAMPLE_BLOCKS + 1):
            f.seek(min(size, _SAMPLE_END + k * step))
            h.update(f.read(_SAMPLE_BLOCK))
        f.seek(max(0, size - _SAMPLE_END))
        h.update(f.read(_SAMPLE_END))
    return h.hexdigest()[:16]


class _Cache:
    def __init__(self, path: Optional[str]):
        self.path, self.data, self.dirty = path, {}, False
        if path:
            try:
                with open(path, encoding="utf-8") as f:
                    self.data = json.load(f)
            except (OSError, ValueError):
                self.data = {}

    def digest(self, path: str) -> str:
        st = os.stat(path)
        if st.st_size < FULL_DIGEST_MAX_BYTES:
            return _hash_file(path)
        ident = (f"{st.st_size}:{st.st_ino}:{st.st_mtime_ns}:{st.st_ctime_ns}:"
                 f"{_sample_digest(path, st.st_size)}")
        real = os.path.realpath(path)
        hit = self.data.get(real)
        if hit and hit[0] == ident:
            return hit[1]
        d = _hash_file(path)
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_SECONDS * 1e9:
            self.data[real] = [ident, d]
            self.dirty = True
        return d

    def save(self):
        if self.path and self.dirty:
            try:
                atomic_write(self.path, json.dumps(self.data, sort_keys=True))
            except OSError:
                pass  # a cache only: failing to keep it costs time, never correctness


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary name beside ``path`` (``NAME.tmp-PID``), renamed to ``path`` when
    the block succeeds and removed when it fails: an interrupted write never leaves a
    half file that a rerun would trust."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def atomic_write(path: str, text: str):
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)


def _files_under(path: str) -> List[str]:
    if os.path.isdir(path):
        out = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            out.extend(os.path.join(root, f) for f in sorted(files)
                       if not _TEMPORARY.search(f) and f != ".digests.json")
        return out
    return [path]


def input_digests(paths: Iterable[str], cache_path: Optional[str] = None) -> Dict[str, str]:
    """``{path: sha256}`` of every input; a directory contributes each file under it
    (by its path inside the directory).  A missing input is an error: a step must never
    be keyed on a file that is not there."""
    cache = _Cache(cache_path if cache_path is not None else os.environ.get(_CACHE_ENV))
    out = {}
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"input {p} of the step does not exist")
        for f in _files_under(p):
            out[f] = cache.digest(f)
    cache.save()
    return out


def step_key(command: Sequence[str], inputs: Iterable[str], cache_path: Optional[str] = None,
             base: Optional[str] = None) -> str:
    """The record of a step: its key (first line), then its inputs' digests.  With
    ``base`` (the done file's directory) the inputs are listed relative to it, so a work
    directory that is moved or copied still checks its own files."""
    digests = input_digests(inputs, cache_path)
    h = hashlib.sha256()
    # inputs in the order given, named without their directory: the same files reached
    # through another path (a moved work directory) keep their key
    h.update(json.dumps({"command": list(command),
                         "inputs": [[os.path.basename(p), d] for p, d in digests.items()]}).encode())
    lines = [h.hexdigest(), "command: " + " ".join(command)]
    lines += [f"{d}  {os.path.relpath(p, base) if base else p}" for p, d in digests.items()]
    return "\n".join(lines) + "\n"


def changed_inputs(done_file: str) -> List[str]:
    """The recorded inputs of a finished step whose contents differ now (or that are
    gone): a result made from them is out of date."""
    try:
        with open(done_file + ".key", encoding="utf-8") as f:
            lines = f.read().splitlines()[2:]
    except OSError:
        return []
    cache = _Cache(os.environ.get(_CACHE_ENV))
    out = []
    for line in lines:
        digest, _, path = line.partition("  ")
        path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(done_file)), path))
        if not os.path.exists(path) or cache.digest(path) != digest:
            out.append(path)
    cache.save()
    return out


class Step:
    """A step run inside a Python process, keyed as lib.sh's ``step``: ``options`` (any
    JSON) and the contents of ``inputs``; its record is ``done_file`` + ``.key``."""

    def __init__(self, done_file: str, options, inputs: Iterable[str] = ()):
        self.done_file = done_file
        self.key = step_key([json.dumps(options, sort_keys=True)], inputs,
                            base=os.path.dirname(os.path.abspath(done_file)))

    def fresh(self) -> bool:
        """``done_file`` exists and was made from the same options and inputs."""
        try:
            with open(self.done_file + ".key", encoding="utf-8") as f:
                recorded = f.readline().rstrip("\n")
        except OSError:
            return False
        return os.path.exists(self.done_file) and recorded == self.key.split("\n", 1)[0]

    def start(self):
        """Forget the last result, so that an interrupted step is never taken for done."""
        for path in (self.done_file + ".key", self.done_file):
            if os.path.exists(path):
                os.remove(path)

    def run(self, make: Callable[[], dict]) -> Tuple[dict, bool]:
        """Unless fresh, ``make()`` and keep its result (JSON) as ``done_file``; returns
        that file's contents (the same made now or by an earlier run) and whether it ran."""
        ran = not self.fresh()
        if ran:
            self.start()
            atomic_write(self.done_file, json.dumps(make(), indent=1, sort_keys=True))
            atomic_write(self.done_file + ".key", self.key)  # last
        with open(self.done_file, encoding="utf-8") as f:
            return json.load(f), ran


def _main(argv: List[str]) -> int:
    # key [--base DIR] CMD... [--inputs PATH...]   print the record of a step
    # changed DONE_FILE...              print the recorded inputs that changed since
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    verb, rest = argv[0], argv[1:]
    try:
        if verb == "key":
            base = None
            if rest[:1] == ["--base"]:
                base, rest = rest[1], rest[2:]
            if "--inputs" in rest:
                i = rest.index("--inputs")
                command, inputs = rest[:i], rest[i + 1:]
            else:
                command, inputs = rest, []
            sys.stdout.write(step_key(command, inputs, base=base))
        elif verb == "changed":  # "DONE_FILE<TAB>INPUT" for every out-of-date input
            for done in rest:
                for path in changed_inputs(done):
                    print(f"{done}\t{path}")
        else:
            print(f"unknown verb {verb!r}", file=sys.stderr)
            return 2
    except (OSError, ValueError) as e:
        print(f"{e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
