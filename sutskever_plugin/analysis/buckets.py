"""Figure 3: BLEU of subsets of the test set, by source length and by word rarity.

Length: Moses tokens of the source (punctuation included, no EOS), in buckets of
``width`` lengths (4-7, 8-11, ... as the paper's axis), a bucket of fewer than
``min_size`` sentences merged with the next one; :func:`equal_size_groups` gives the
paper's own view (sentences sorted by length, in groups). Rarity: the mean rank of a
sentence's words in the training source's frequency list (unseen words rank last),
sentences cut into equal-size groups. Each subset's BLEU is the corpus BLEU of just
those sentences, by the scorer of every table.
"""
from collections import Counter
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from ..scoring.bleu import tokenized_bleu


@dataclass
class Bucket:
    label: str
    lo: float          # smallest value of a member sentence
    hi: float          # largest value of a member sentence
    indices: List[int]  # test-set line numbers (0-based), ascending

    @property
    def n(self) -> int:
        return len(self.indices)


def token_lengths(lines: Iterable[str]) -> List[int]:
    return [len(line.split()) for line in lines]


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.0f}"


def _range(lo: float, hi: float) -> str:
    return _fmt(lo) if _fmt(lo) == _fmt(hi) else f"{_fmt(lo)}-{_fmt(hi)}"


def length_buckets(lengths: Sequence[int], width: int = 4, start: int = 4,
                   min_size: int = 20) -> List[Bucket]:
    """Fixed-width length buckets [start, start+width-1], ... (shorter sentences join the
    first), each grown over the next ones until it holds ``min_size`` sentences; a short
    remainder at the end joins the last bucket."""
    if width < 1:
        raise ValueError("width must be >= 1")
    if not lengths:
        return []
    bins: Dict[int, List[int]] = {}
    for i, n in enumerate(lengths):
        bins.setdefault(max(0, (n - start) // width), []).append(i)
    groups: List[List[int]] = []
    bounds = []
    cur: List[int] = []
    cur_lo = None
    last = max(bins)
    for b in range(0, last + 1):
        members = bins.get(b, [])
        if not members and not cur:
            continue  # no bucket starts on an empty bin
        if cur_lo is None:
            cur_lo = start + b * width
        cur += members
        if len(cur) >= min_size or b == last:
            bounds.append((cur_lo, start + (b + 1) * width - 1))
            groups.append(cur)
            cur, cur_lo = [], None
    if len(groups) > 1 and len(groups[-1]) < min_size:
        tail, (_, tail_hi) = groups.pop(), bounds.pop()
        groups[-1] = groups[-1] + tail
        bounds[-1] = (bounds[-1][0], tail_hi)
    out = []
    for k, ((lo, hi), idx) in enumerate(zip(bounds, groups)):
        vals = [lengths[i] for i in idx]
        if k == 0:
            lo = min(lo, min(vals))  # sentences shorter than ``start`` are in the first bucket
        if k == len(groups) - 1:
            hi = max(vals)  # the last bucket ends at the longest sentence
        out.append(Bucket(_range(lo, hi), min(vals), max(vals), sorted(idx)))
    return out


def equal_size_groups(values: Sequence[float], n_groups: int) -> List[Bucket]:
    """Sentences sorted by ``values`` (ties in test-set order) cut into ``n_groups``
    groups whose sizes differ by at most one."""
    n_groups = max(1, min(n_groups, len(values)))
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    out = []
    for part in np.array_split(np.array(order, dtype=int), n_groups):
        idx = part.tolist()
        vals = [values[i] for i in idx]
        lo, hi = min(vals), max(vals)
        out.append(Bucket(_range(lo, hi), lo, hi, sorted(idx)))
    return out


def word_ranks(train_lines: Iterable[str]) -> Dict[str, int]:
    """Word -> frequency rank in the training source (1 = most frequent; ties broken
    alphabetically so the ranks do not depend on the order of the corpus)."""
    counts = Counter()
    for line in train_lines:
        counts.update(line.split())
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return {w: r for r, (w, _) in enumerate(ordered, 1)}


def average_ranks(lines: Sequence[str], ranks: Dict[str, int]) -> List[float]:
    """Mean frequency rank of each sentence's words; unseen words rank len(ranks) + 1;
    an empty sentence gets 0."""
    oov = len(ranks) + 1
    out = []
    for line in lines:
        words = line.split()
        out.append(float(np.mean([ranks.get(w, oov) for w in words])) if words else 0.0)
    return out


def bucket_table(buckets: Sequence[Bucket], systems: Dict[str, Sequence[str]],
                 refs: Sequence[str], values: Optional[Sequence[float]] = None) -> List[dict]:
    """One row per bucket: its range, size, mean value and the BLEU of every system on
    exactly its sentences."""
    for name, hyps in systems.items():
        if len(hyps) != len(refs):
            raise ValueError(f"{name}: {len(hyps)} hypotheses for {len(refs)} references")
    rows = []
    for b in buckets:
        row = {"bucket": b.label, "lo": b.lo, "hi": b.hi, "sentences": b.n}
        if values is not None:
            row["mean"] = round(float(np.mean([values[i] for i in b.indices])), 2)
        for name, hyps in systems.items():
            bleu = tokenized_bleu([hyps[i] for i in b.indices], [refs[i] for i in b.indices])
            row[name] = round(bleu.score, 2)
        rows.append(row)
    return rows
