"""Reading and writing corpus text safely: lines split on ``\\n`` only (never on U+2028,
U+0085, ... as ``str.splitlines``), so line *i* of a source stays aligned with line *i* of
its translation; strict UTF-8 (a bad byte is an error naming file and line); outputs
written under a temporary name and renamed when complete.
"""
import contextlib
import gzip
import itertools
import json
import os
import shutil
import zlib
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

from ..errors import user_facing
from ..steps import atomic_path, atomic_write as write_text


@user_facing
class DataPrepError(ValueError):
    """A data preparation failure with a message meant for the user."""


def numbered_lines(f, path: str, error: Callable[[int, str], Exception]) -> Iterator[Tuple[int, str]]:
    """(line number, text without its line ending) of an open file; bytes are decoded as
    strict UTF-8.  A bad byte or a damaged .gz stream raises ``error(line number, what)``."""
    lineno, it = 0, iter(f)
    while True:
        try:
            raw = next(it)
        except StopIteration:
            return
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise error(lineno + 1, f"cannot read the file after line {lineno}: {e}") from None
        lineno += 1
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise error(lineno, f"not valid UTF-8 (byte 0x{raw[e.start]:02x} at byte offset "
                                    f"{e.start} of the line)") from None
        line = raw[:-1] if raw.endswith("\n") else raw
        if line.endswith("\r"):  # CRLF files
            line = line[:-1]
        if lineno == 1 and line.startswith("\ufeff"):  # byte order mark
            line = line[1:]
        yield lineno, line


def read_lines(path: str, limit: Optional[int] = None) -> Iterator[str]:
    """The lines of ``path`` (plain or .gz, the first ``limit`` only if given), without
    their line ending; errors are :class:`DataPrepError` naming file and line."""
    if not os.path.exists(path):
        raise DataPrepError(f"{path}: no such file")
    try:
        f = (gzip.open if str(path).endswith(".gz") else open)(path, "rb")
    except OSError as e:
        raise DataPrepError(f"{path}: cannot read: {e}") from None
    with f:
        lines = numbered_lines(f, path, lambda n, what: DataPrepError(f"{path}:{n}: {what}"))
        for _, line in itertools.islice(lines, limit):
            yield line


def count_lines(path: str) -> int:
    """Number of lines, validating UTF-8 on the way (errors name file and line)."""
    return sum(1 for _ in read_lines(path))


def check_parallel(src_path: str, tgt_path: str):
    """Both sides of a parallel corpus must have the same number of lines."""
    n_src, n_tgt = count_lines(src_path), count_lines(tgt_path)
    if n_src != n_tgt:
        raise DataPrepError(
            f"line counts differ: {src_path} has {n_src} lines but {tgt_path} has "
            f"{n_tgt}; a parallel corpus needs one translation per line"
        )


def normalize_space(line: str) -> str:
    """Collapse every kind of Unicode whitespace (tabs, U+2028, NBSP, ...) to one space."""
    return " ".join(line.split())


@contextlib.contextmanager
def atomic_open(path: str):
    """Open a text file for writing (UTF-8, ``\\n`` endings) that appears only when complete."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            yield f


def write_json(path: str, obj, **dump_kwargs):
    """``obj`` as JSON (indent 2 unless given otherwise), written atomically."""
    write_text(path, json.dumps(obj, **{"indent": 2, **dump_kwargs}) + "\n")


def write_lines(path: str, lines: Iterable[str]):
    with atomic_open(path) as f:
        for line in lines:
            f.write(line + "\n")


@contextlib.contextmanager
def atomic_dir(path: str):
    """Yield a temporary directory that replaces ``path`` once the block succeeds."""
    tmp = f"{path}.tmp-{os.getpid()}"  # as atomic_path's
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        yield tmp
        shutil.rmtree(path, ignore_errors=True)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_text_lines(path: str) -> List[str]:
    """All lines of a text file (plain or .gz), with :func:`read_lines`' checks."""
    return list(read_lines(path))
