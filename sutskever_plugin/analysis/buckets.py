"""Figure 3: the corpus BLEU of subsets of the test set, by source length (Moses tokens,
no EOS) and by word rarity (the mean frequency rank of a sentence's words in the training
source).
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


def token_lengths(lines: Iterable[str]) -> List[int]:
    return [len(line.split()) for line in lines]


def _range(lo: float, hi: float) -> str:
    lo, hi = f"{lo:.0f}", f"{hi:.0f}"
    return lo if lo == hi else f"{lo}-{hi}"


def length_buckets(lengths: Sequence[int], width: int = 4, start: int = 4,
                   min_size: int = 20) -> List[Bucket]:
    """Fixed-width length buckets [start, start+width-1], ... (shorter sentences join the
    first), each grown over the next ones until it holds ``min_size`` sentences; a short
    remainder at the end joins the last bucket."""
    bins: Dict[int, List[int]] = {}
    for i, n in enumerate(lengths):
        bins.setdefault(max(0, (n - start) // width), []).append(i)
    groups: List[list] = []  # [first bin, last bin, sentences]
    for b in sorted(bins):  # no bucket starts on an empty bin
        if groups and len(groups[-1][2]) < min_size:
            groups[-1][1] = b
            groups[-1][2] += bins[b]
        else:
            groups.append([b, b, bins[b]])
    if len(groups) > 1 and len(groups[-1][2]) < min_size:
        _, hi_bin, tail = groups.pop()
        groups[-1][1] = hi_bin
        groups[-1][2] += tail
    out = []
    for k, (lo_bin, hi_bin, idx) in enumerate(groups):
        vals = [lengths[i] for i in idx]
        lo, hi = start + lo_bin * width, start + (hi_bin + 1) * width - 1
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
    """Word -> frequency rank in the training source (1 = most frequent; ties
    alphabetically)."""
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
    """One row per bucket: its range, size, mean value and every system's BLEU on it."""
    rows = []
    for b in buckets:
        row = {"bucket": b.label, "lo": b.lo, "hi": b.hi, "sentences": len(b.indices)}
        if values is not None:
            row["mean"] = round(float(np.mean([values[i] for i in b.indices])), 2)
        for name, hyps in systems.items():
            bleu = tokenized_bleu([hyps[i] for i in b.indices], [refs[i] for i in b.indices])
            row[name] = round(bleu.score, 2)
        rows.append(row)
    return rows
