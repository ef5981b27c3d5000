"""Reading and writing corpus text safely.

* Lines are split on ``\\n`` only (never on U+2028, U+0085, ... as ``str.splitlines``
  would), so line *i* of a source file always stays aligned with line *i* of its
  translation.
* Every line is decoded as strict UTF-8: a bad byte is an error naming the file and
  line, not a silently replaced character.
* Outputs are written under a temporary name and renamed when complete, so an
  interrupted run never leaves a half-written file that a rerun would trust.
"""
import contextlib
import gzip
import json
import os
import shutil
from typing import Iterable, Iterator, List, Optional
from sutskever_plugin.errors import user_facing


@user_facing
class DataPrepError(ValueError):
    """A data preparation failure with a message meant for the user."""


def _open_binary(path: str):
    if not os.path.exists(path):
        raise DataPrepError(f"{path}: no such file")
    if str(path).endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_lines(path: str, limit: Optional[int] = None) -> Iterator[str]:
    """Yield the lines of ``path`` (plain or .gz) without their line ending.

    Raises :class:`DataPrepError` naming file and line on invalid UTF-8 or a corrupt
    gzip stream.
    """
    lineno = 0
    try:
        with _open_binary(path) as f:
            for raw in f:
                if limit is not None and lineno >= limit:
                    return
                lineno += 1
                if raw.endswith(b"\n"):
                    raw = raw[:-1]
                if raw.endswith(b"\r"):  # CRLF files
                    raw = raw[:-1]
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataPrepError(
                        f"{path}:{lineno}: not valid UTF-8 (byte 0x{raw[e.start]:02x} at "
                        f"byte offset {e.start} of the line); the corpus must be UTF-8 text"
                    ) from None
                if lineno == 1 and line.startswith("\ufeff"):  # byte order mark
                    line = line[1:]
                yield line
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise DataPrepError(f"{path}: cannot read after line {lineno}: {e}") from None


def count_lines(path: str) -> int:
    """Number of lines, validating UTF-8 on the way (errors name file and line)."""
    n = 0
    for _ in read_lines(path):
        n += 1
    return n


def check_parallel(src_path: str, tgt_path: str) -> int:
    """Both sides of a parallel corpus must have the same number of lines."""
    n_src, n_tgt = count_lines(src_path), count_lines(tgt_path)
    if n_src != n_tgt:
        raise DataPrepError(
            f"line counts differ: {src_path} has {n_src} lines but {tgt_path} has "
            f"{n_tgt}; a parallel corpus needs one translation per line"
        )
    return n_src


def normalize_space(line: str) -> str:
    """Collapse every kind of Unicode whitespace (tabs, U+2028, NBSP, ...) to one space."""
    return " ".join(line.split())


def _tmp_name(path: str) -> str:
    return f"{path}.tmp-{os.getpid()}"


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path; on success it is renamed to ``path`` (atomic)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = _tmp_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def atomic_open(path: str):
    """Open a text file for writing (UTF-8, ``\\n`` endings) that appears only when complete."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            yield f


def write_text(path: str, text: str):
    with atomic_open(path) as f:
        f.write(text)


def write_json(path: str, obj, **dump_kwargs):
    """``obj`` as JSON (indent 2 unless given otherwise), written atomically."""
    write_text(path, json.dumps(obj, **{"indent": 2, **dump_kwargs}) + "\n")


def write_lines(path: str, lines: Iterable[str]) -> int:
    n = 0
    with atomic_open(path) as f:
        for line in lines:
            f.write(line + "\n")
            n += 1
    return n


@contextlib.contextmanager
def atomic_dir(path: str):
    """Yield a temporary directory that replaces ``path`` once the block succeeds."""
    tmp = _tmp_name(path)
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(tmp)
    try:
        yield tmp
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp)


def read_text_lines(path: str) -> List[str]:
    """All lines of a text file (plain or .gz), with :func:`read_lines`' checks."""
    return list(read_lines(path))
