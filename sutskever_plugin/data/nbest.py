"""Moses n-best lists (the paper rescored the baseline's 1000-best lists), one hypothesis a line::

    id ||| hypothesis ||| feature values ||| total score [||| extra fields, kept verbatim]

e.g. ``0 ||| un chien . ||| LM0= -12.3 TranslationModel0= -1 -2 -0.5 -3 ||| -4.1``.
Rescoring needs exactly one 1-best per source sentence, so the reader is strict: every
problem is an :class:`NbestFormatError` naming ``file:line``, and every sentence
``0..N-1`` must have a hypothesis.
"""
import contextlib
import gzip
import math
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..errors import user_facing
from .textio import numbered_lines

Features = List[Tuple[str, List[float]]]


@user_facing
class NbestFormatError(ValueError):
    """A malformed n-best list; the message starts with ``file:line:``."""

    def __init__(self, path: str, lineno: Optional[int], message: str):
        where = f"{path}:{lineno}" if lineno is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path, self.lineno, self.reason = path, lineno, message


@dataclass
class NbestEntry:
    sent_id: int
    hyp: str
    features: Features = field(default_factory=list)
    score: float = 0.0
    extra: List[str] = field(default_factory=list)  # fields after the score, verbatim

    def feature(self, name: str) -> List[float]:
        """Values of feature ``name`` (accepts ``LM0`` or ``LM0=``); KeyError if absent."""
        name = name.rstrip("=")
        for n, values in self.features:
            if n == name:
                return values
        raise KeyError(name)

    def with_feature(self, name: str, values: Sequence[float]) -> "NbestEntry":
        """Copy with feature ``name`` appended (or replaced if already present)."""
        name = name.rstrip("=")
        feats = [(n, list(v)) for n, v in self.features if n != name]
        feats.append((name, [float(v) for v in values]))
        return NbestEntry(self.sent_id, self.hyp, feats, self.score, list(self.extra))


# ---------------------------------------------------------------------------- parsing


def _number(text: str) -> float:
    value = float(text)  # ValueError for non-numeric text
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_features(text: str) -> Features:
    """Parse ``Name= v1 v2 Other= v3`` into ``[("Name", [v1, v2]), ("Other", [v3])]``."""
    feats: Features = []
    for tok in text.split():
        if tok.endswith("="):
            name = tok[:-1]
            if not name:
                raise ValueError("a feature label '=' without a name")
            if feats and not feats[-1][1]:
                raise ValueError(f"feature {feats[-1][0]}= has no value")
            feats.append((name, []))
        else:
            if not feats:
                raise ValueError(f"feature value {tok!r} before any 'Name=' label")
            try:
                feats[-1][1].append(_number(tok))
            except ValueError:
                raise ValueError(
                    f"feature {feats[-1][0]}= has a non-numeric (or non-finite) value {tok!r}"
                ) from None
    if feats and not feats[-1][1]:
        raise ValueError(f"feature {feats[-1][0]}= has no value")
    return feats


def parse_line(line: str, path: str = "<nbest>", lineno: Optional[int] = None) -> NbestEntry:
    """Parse one n-best line; raises :class:`NbestFormatError` naming ``path:lineno``."""
    fields = [f.strip() for f in line.rstrip("\r\n").split("|||")]
    if len(fields) < 4:
        raise NbestFormatError(
            path, lineno,
            f"expected 'id ||| hypothesis ||| features ||| score', found {len(fields)} "
            f"field(s) in {line.rstrip()!r}",
        )
    sid, hyp, feats, score = fields[:4]
    try:
        sent_id = int(sid)
    except ValueError:
        raise NbestFormatError(path, lineno, f"sentence id {sid!r} is not an integer") from None
    if sent_id < 0:
        raise NbestFormatError(path, lineno, f"sentence id {sent_id} is negative")
    hyp = " ".join(hyp.split())
    if not hyp:
        raise NbestFormatError(path, lineno, f"empty hypothesis for sentence {sent_id}")
    try:
        features = parse_features(feats)
    except ValueError as e:
        raise NbestFormatError(path, lineno, str(e)) from None
    try:
        total = _number(score)
    except ValueError:
        raise NbestFormatError(
            path, lineno, f"total score {score!r} is not a finite number"
        ) from None
    return NbestEntry(sent_id, hyp, features, total, fields[4:])


def _path(path_or_file: Union[str, IO[str]]) -> str:
    return path_or_file if isinstance(path_or_file, str) else getattr(path_or_file, "name", "<nbest>")


def read_nbest(
    path_or_file: Union[str, IO[str]], num_sentences: Optional[int] = None
) -> Iterator[NbestEntry]:
    """Stream the entries of an n-best list, checking ids are non-decreasing and in range.
    Blank lines are an error too (Moses never writes them)."""
    path = _path(path_or_file)
    with contextlib.ExitStack() as stack:
        fh = path_or_file
        if isinstance(path_or_file, str):
            # read as bytes, decoded line by line: a bad byte is an error naming its line
            fh = stack.enter_context((gzip.open if path.endswith(".gz") else open)(path, "rb"))
        prev = -1
        for lineno, line in numbered_lines(fh, path, lambda n, what: NbestFormatError(path, n, what)):
            if not line.strip():
                raise NbestFormatError(path, lineno, "blank line")
            entry = parse_line(line, path, lineno)
            if entry.sent_id < prev:
                raise NbestFormatError(
                    path, lineno,
                    f"sentence id {entry.sent_id} after {prev}: ids must be non-decreasing",
                )
            if num_sentences is not None and entry.sent_id >= num_sentences:
                raise NbestFormatError(
                    path, lineno,
                    f"sentence id {entry.sent_id} out of range: the source has "
                    f"{num_sentences} sentence(s) (ids 0..{num_sentences - 1})",
                )
            prev = entry.sent_id
            yield entry


def read_nbest_blocks(
    path_or_file: Union[str, IO[str]], num_sentences: Optional[int] = None
) -> Iterator[List[NbestEntry]]:
    """One list of hypotheses per source sentence, for ids ``0..num_sentences-1`` (None:
    up to the last id); a sentence without a hypothesis is an error."""
    path = _path(path_or_file)
    expected = 0
    block: List[NbestEntry] = []
    lineno = 0
    for lineno, entry in enumerate(read_nbest(path_or_file, num_sentences), 1):
        if block and entry.sent_id != block[0].sent_id:
            yield block
            block = []
            expected += 1
        if not block and entry.sent_id != expected:
            raise NbestFormatError(
                path, lineno,
                f"sentence {expected} has no hypothesis (ids jump to {entry.sent_id})",
            )
        block.append(entry)
    if block:
        yield block
        expected += 1
    if num_sentences is not None and expected < num_sentences:
        raise NbestFormatError(
            path, None,
            f"ends after sentence {expected - 1} ({lineno} lines), but the source has "
            f"{num_sentences} sentences: sentence {expected} has no hypothesis",
        )
    if num_sentences is None and expected == 0:
        raise NbestFormatError(path, None, "empty n-best list")


def load_nbest(path: str, num_sentences: Optional[int] = None) -> List[List[NbestEntry]]:
    """All blocks of an n-best list in memory (see :func:`read_nbest_blocks`)."""
    return list(read_nbest_blocks(path, num_sentences))


# ---------------------------------------------------------------------------- writing


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float (``repr``), ints without '.0'."""
    value = float(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_entry(entry: NbestEntry) -> str:
    if not entry.hyp.strip():
        raise ValueError(f"refusing to write an empty hypothesis for sentence {entry.sent_id}")
    if "|||" in entry.hyp:
        raise ValueError(f"hypothesis of sentence {entry.sent_id} contains '|||'")
    features = " ".join(f"{name}= " + " ".join(format_number(v) for v in values)
                        for name, values in entry.features)
    fields = [str(entry.sent_id), entry.hyp, features,
              format_number(entry.score)] + list(entry.extra)
    return " ||| ".join(fields)


def write_nbest(entries: Iterable[NbestEntry], out: IO[str]) -> int:
    """Write entries as Moses lines; returns their count."""
    n = 0
    for e in entries:
        out.write(format_entry(e) + "\n")
        n += 1
    return n
