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
import logging
import math
from collections import Counter, defaultdict
from typing import Dict, Iterator, List, Sequence, Set, Tuple

logger = logging.getLogger(__name__)

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
            for j in s2t[s2]:
                if j < tmin:
                    tmin = j
                if j > tmax:
                    tmax = j
            if tmax < 0:
                continue  # only unaligned source words so far
            if tmax - tmin + 1 > max_len:
                break  # the target span only grows with s2
            consistent = True
            for j in range(tmin, tmax + 1):
                for i in t2s[j]:
                    if i < s1 or i > s2:
                        consistent = False
                        break
                if not consistent:
                    break
            if not consistent:
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
        s_al, t_al = set(), set()
        for i, j in links:
            pair[src[i], tgt[j]] += 1
            s_tot[src[i]] += 1
            t_tot[tgt[j]] += 1
            s_al.add(i)
            t_al.add(j)
        for i, w in enumerate(src):
            if i not in s_al:
                pair[w, NULL] += 1
                s_tot[w] += 1
                t_tot[NULL] += 1
        for j, w in enumerate(tgt):
            if j not in t_al:
                pair[NULL, w] += 1
                s_tot[NULL] += 1
                t_tot[w] += 1
    t_given_s = {(s, t): c / s_tot[s] for (s, t), c in pair.items()}
    s_given_t = {(s, t): c / t_tot[t] for (s, t), c in pair.items()}
    return t_given_s, s_given_t


def _lex(out_words, in_words, local_links, table, out_is_tgt):
    """Lexical weight of out_words given in_words (Koehn 2003, eq. 'lex')."""
    by_out = defaultdict(list)
    for i, j in local_links:
        if out_is_tgt:
            by_out[j].append(i)
        else:
            by_out[i].append(j)
    prob = 1.0
    for k, w in enumerate(out_words):
        ins = by_out.get(k)
        if ins:
            if out_is_tgt:
                p = sum(table.get((in_words[i], w), 0.0) for i in ins) / len(ins)
            else:
                p = sum(table.get((w, in_words[i]), 0.0) for i in ins) / len(ins)
        else:
            p = table.get((NULL, w) if out_is_tgt else (w, NULL), 0.0)
        prob *= p
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
            first = key not in pair_count
            pair_count[key] += 1
            local = [(i - s1, j - t1) for i, j in links if s1 <= i <= s2 and t1 <= j <= t2]
            lts = _lex(tp, sp, local, t_given_s, out_is_tgt=True)
            lst = _lex(sp, tp, local, s_given_t, out_is_tgt=False)
            if first or lts > lex_ts[key]:
                lex_ts[key] = lts
            if first or lst > lex_st[key]:
                lex_st[key] = lst
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
        cands = sorted(by_src[s], key=lambda x: (-x[1][2], -x[1][3], x[0]))[:keep]
        for t, scores, counts in cands:
            rows.append((s, t, scores, counts))
    logger.info("phrase table: %d pairs extracted, %d source phrases, %d rows kept",
                len(pair_count), len(by_src), len(rows))
    return rows


def write_phrase_table(rows, path: str):
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=3) as f:
        for s, t, scores, counts in rows:
            f.write(f"{s} ||| {t} ||| {' '.join(f'{x:.6g}' for x in scores)} ||| ||| "
                    f"{' '.join(map(str, counts))}\n")


def load_phrase_table(
    path: str, needed_sources: Set[str] = None, floor: float = 1e-7
) -> Dict[str, List[Tuple[Tuple[str, ...], Tuple[float, float, float, float]]]]:
    """Read a Moses phrase table as ``{src phrase: [(tgt words, log scores)]}``.

    ``needed_sources`` filters to the phrases of the sentences to translate (as Moses'
    filter-model-given-input.pl). Scores are returned as natural logs (Moses' features),
    probabilities floored at ``floor`` so that a zero lexical weight stays finite.
    """
    table: Dict[str, List] = defaultdict(list)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            s, rest = line.split(" ||| ", 1)
            if needed_sources is not None and s not in needed_sources:
                continue
            t, scores, _ = rest.split(" ||| ", 2)
            table[s].append((tuple(t.split()),
                             tuple(math.log(max(float(x), floor)) for x in scores.split())))
    return dict(table)
