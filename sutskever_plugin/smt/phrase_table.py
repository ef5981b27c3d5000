"""Phrase extraction and scoring (Koehn, Och & Marcu 2003), as Moses' train-model.perl.

From the symmetrized word alignment we extract every phrase pair consistent with it (no
word inside the pair aligned outside it), up to ``max_len`` words a side, and score it
with Moses' four translation-model features:

* ``phi(s|t)``  inverse phrase translation probability  c(s,t) / c(t)
* ``lex(s|t)``  inverse lexical weight
* ``phi(t|s)``  direct phrase translation probability   c(s,t) / c(s)
* ``lex(t|s)``  direct lexical weight

(Moses' column order, with s the source (English here) and t the target (French)).
Lexical weights come from a word translation table estimated on the same alignment,
w(t|s) = c(s aligned to t) / c(s aligned); a word left unaligned is aligned to NULL.
A pair seen with several alignments keeps the largest lexical weight.

The file written is Moses' text format ``src ||| tgt ||| 4 scores ||| ||| c(t) c(s) c(s,t)``,
pruned to the ``keep`` best targets per source phrase (by phi(t|s), then lex(t|s)).
"""
import gzip
import math
from collections import Counter, defaultdict
from typing import Dict, Iterator, List, Sequence, Set, Tuple

NULL = "NULL"


def extract_phrase_spans(
    src_len: int, tgt_len: int, links: Set[Tuple[int, int]], max_len: int
) -> Iterator[Tuple[int, int, int, int]]:
    """Yield (s1, s2, t1, t2) inclusive spans of the phrase pairs consistent with links."""
    s2t: List[List[int]] = [[] for _ in range(src_len)]
    t2s: List[List[int]] = [[] for _ in range(tgt_len)]
    for i, j in links:
        s2t[i].append(j)
        t2s[j].append(i)
    tgt_aligned = [bool(x) for x in t2s]
    for s1 in range(src_len):
        tmin, tmax = tgt_len, -1
        for s2 in range(s1, min(src_len, s1 + max_len)):
            if s2t[s2]:
                tmin = min(tmin, *s2t[s2])
                tmax = max(tmax, *s2t[s2])
            if tmax < 0:
                continue  # only unaligned source words so far
            if tmax - tmin + 1 > max_len:
                break  # the target span only grows with s2
            if any(i < s1 or i > s2 for j in range(tmin, tmax + 1) for i in t2s[j]):
                continue
            # extend over unaligned target words on both sides
            ts = tmin
            while True:
                te = tmax
                while te - ts + 1 <= max_len:
                    yield s1, s2, ts, te
                    te += 1
                    if te >= tgt_len or tgt_aligned[te]:
                        break
                ts -= 1
                if ts < 0 or tgt_aligned[ts]:
                    break


def word_translation_tables(src_sents, tgt_sents, alignments):
    """w(t|s) and w(s|t) from aligned word counts, NULL for unaligned words."""
    pair, s_tot, t_tot = Counter(), Counter(), Counter()
    for src, tgt, links in zip(src_sents, tgt_sents, alignments):
        s_al, t_al = {i for i, _ in links}, {j for _, j in links}
        pair.update((src[i], tgt[j]) for i, j in links)
        pair.update((w, NULL) for i, w in enumerate(src) if i not in s_al)
        pair.update((NULL, w) for j, w in enumerate(tgt) if j not in t_al)
    for (s, t), c in pair.items():
        s_tot[s] += c
        t_tot[t] += c
    t_given_s = {(s, t): c / s_tot[s] for (s, t), c in pair.items()}
    s_given_t = {(t, s): c / t_tot[t] for (s, t), c in pair.items()}
    return t_given_s, s_given_t


def _lex(out_words, in_words, links, table):
    """Lexical weight of out_words given in_words (Koehn 2003, eq. 'lex'); ``links`` are
    (in index, out index) pairs, ``table`` is keyed (in word, out word)."""
    by_out = defaultdict(list)
    for i, j in links:
        by_out[j].append(i)
    prob = 1.0
    for k, w in enumerate(out_words):
        ins = by_out.get(k)
        if ins:
            prob *= sum(table.get((in_words[i], w), 0.0) for i in ins) / len(ins)
        else:
            prob *= table.get((NULL, w), 0.0)
    return prob


def build_phrase_table(
    src_sents: Sequence[List[str]],
    tgt_sents: Sequence[List[str]],
    alignments: Sequence[Set[Tuple[int, int]]],
    max_len: int = 7,
    keep: int = 30,
) -> List[Tuple[str, str, Tuple[float, float, float, float], Tuple[int, int, int]]]:
    """Extract and score phrase pairs; returns rows ``(src, tgt, scores, counts)``."""
    t_given_s, s_given_t = word_translation_tables(src_sents, tgt_sents, alignments)
    pair_count: Counter = Counter()
    lex_ts: Dict[Tuple[str, str], float] = {}
    lex_st: Dict[Tuple[str, str], float] = {}
    for src, tgt, links in zip(src_sents, tgt_sents, alignments):
        for s1, s2, t1, t2 in extract_phrase_spans(len(src), len(tgt), links, max_len):
            sp, tp = src[s1:s2 + 1], tgt[t1:t2 + 1]
            key = (" ".join(sp), " ".join(tp))
            pair_count[key] += 1
            local = [(i - s1, j - t1) for i, j in links if s1 <= i <= s2 and t1 <= j <= t2]
            lex_ts[key] = max(lex_ts.get(key, 0.0), _lex(tp, sp, local, t_given_s))
            lex_st[key] = max(lex_st.get(key, 0.0),
                              _lex(sp, tp, [(j, i) for i, j in local], s_given_t))
    src_count: Counter = Counter()
    tgt_count: Counter = Counter()
    for (s, t), c in pair_count.items():
        src_count[s] += c
        tgt_count[t] += c
    by_src: Dict[str, List] = defaultdict(list)
    for (s, t), c in pair_count.items():
        scores = (c / tgt_count[t], lex_st[s, t], c / src_count[s], lex_ts[s, t])
        by_src[s].append((t, scores, (tgt_count[t], src_count[s], c)))
    rows = []
    for s in sorted(by_src):
        for t, scores, counts in sorted(by_src[s], key=lambda x: (-x[1][2], -x[1][3], x[0]))[:keep]:
            rows.append((s, t, scores, counts))
    return rows


def write_phrase_table(rows, path: str):
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=3) as f:
        for s, t, scores, counts in rows:
            f.write(f"{s} ||| {t} ||| {' '.join(f'{x:.6g}' for x in scores)} ||| ||| "
                    f"{' '.join(map(str, counts))}\n")


def load_phrase_table(path: str, needed_sources: Set[str]):
    """Read a Moses phrase table as ``{src phrase: [(tgt words, log scores)]}``, filtered to
    ``needed_sources``. Scores are natural logs (Moses' features) of probabilities floored
    at 1e-7, so that a zero lexical weight stays finite."""
    table: Dict[str, List] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            s, rest = line.split(" ||| ", 1)
            if s in needed_sources:
                t, scores, _ = rest.split(" ||| ", 2)
                table[s].append((tuple(t.split()),
                                 tuple(math.log(max(float(x), 1e-7)) for x in scores.split())))
    return dict(table)
