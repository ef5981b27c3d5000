"""Moses n-best lists (the paper rescored the baseline's 1000-best lists), one hypothesis a line::

    id ||| hypothesis ||| feature values ||| total score [||| extra fields, kept verbatim]

e.g. ``0 ||| un chien . ||| LM0= -12.3 TranslationModel0= -1 -2 -0.5 -3 ||| -4.1``.
Rescoring needs exactly one 1-best per source sentence, so the reader is strict: every
problem is an :class:`NbestFormatError` naming ``file:line``, and every sentence
``0..N-1`` must have a hypothesis.
"""
import gzip
import math
from dataclasses import dataclass, field
from typing import IO, Iterable, List, Optional, Sequence, Tuple

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
        """Values of feature ``name`` (``LM0``, without the ``=``); KeyError if absent."""
        return dict(self.features)[name]

    def with_feature(self, name: str, values: Sequence[float]) -> "NbestEntry":
        """Copy with feature ``name`` appended (or replaced if already present)."""
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


def parse_line(line: str, path: str, lineno: int) -> NbestEntry:
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


def load_nbest(path: str, num_sentences: int) -> List[List[NbestEntry]]:
    """One list of hypotheses per source sentence ``0..num_sentences-1``: ids must be
    non-decreasing and in range, and every sentence needs a hypothesis.  Blank lines are an
    error too (Moses never writes them)."""
    blocks: List[List[NbestEntry]] = []
    lineno = 0
    # read as bytes, decoded line by line: a bad byte is an error naming its line
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as fh:
        for lineno, line in numbered_lines(fh, path, lambda n, what: NbestFormatError(path, n, what)):
            if not line.strip():
                raise NbestFormatError(path, lineno, "blank line")
            entry = parse_line(line, path, lineno)
            prev = blocks[-1][0].sent_id if blocks else -1
            if entry.sent_id < prev:
                raise NbestFormatError(
                    path, lineno,
                    f"sentence id {entry.sent_id} after {prev}: ids must be non-decreasing",
                )
            if entry.sent_id >= num_sentences:
                raise NbestFormatError(
                    path, lineno,
                    f"sentence id {entry.sent_id} out of range: the source has "
                    f"{num_sentences} sentence(s) (ids 0..{num_sentences - 1})",
                )
            if entry.sent_id == prev:
                blocks[-1].append(entry)
            elif entry.sent_id == len(blocks):
                blocks.append([entry])
            else:
                raise NbestFormatError(
                    path, lineno,
                    f"sentence {len(blocks)} has no hypothesis (ids jump to {entry.sent_id})",
                )
    if len(blocks) < num_sentences:
        raise NbestFormatError(
            path, None,
            f"ends after sentence {len(blocks) - 1} ({lineno} lines), but the source has "
            f"{num_sentences} sentences: sentence {len(blocks)} has no hypothesis",
        )
    return blocks


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


def write_nbest(entries: Iterable[NbestEntry], out: IO[str]):
    for e in entries:
        out.write(format_entry(e) + "\n")
