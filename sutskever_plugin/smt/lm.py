"""Interpolated modified Kneser-Ney n-gram language model (Chen & Goodman 1998).

The baseline's target language model. KenLM's ``lmplz`` trains the same model, but only
its query side installs from PyPI, so the estimation is written here: it is small work for
Multi30k's 29k French sentences. The model is stored in the standard ARPA format (log10
probabilities and back-off weights) so it can be read by KenLM or SRILM as well, and
:class:`NgramLM` queries it with back-off, returning natural logs (Moses' LM feature).

Estimation as lmplz: the highest order uses raw counts, lower orders continuation counts
(number of distinct left contexts) except for n-grams starting with ``<s>``; three
discounts D1, D2, D3+ per order from counts-of-counts; unigrams interpolate with the
uniform distribution over the vocabulary (including ``<unk>``).
"""
import functools
import gzip
import math
from collections import Counter, defaultdict
from typing import Dict, Iterable, List, Sequence, Tuple

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
LN10 = math.log(10.0)


def _discounts(counts: Counter) -> Tuple[float, float, float]:
    coc = Counter(min(c, 4) for c in counts.values())
    n1, n2, n3, n4 = (coc.get(k, 0) for k in (1, 2, 3, 4))
    if min(n1, n2, n3, n4) == 0:  # tiny corpora: fall back to a single discount
        d = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.5
        d = min(max(d, 0.1), 0.9)
        return d, d, d
    y = n1 / (n1 + 2 * n2)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2
    d3 = 3 - 4 * y * n4 / n3
    return max(d1, 0.01), max(d2, 0.01), max(d3, 0.01)


def train_kneser_ney(sentences: Iterable[Sequence[str]], order: int = 4):
    """Return ``{n: {ngram tuple: (log10 prob, log10 backoff)}}`` for n = 1..order."""
    raw: List[Counter] = [Counter() for _ in range(order + 1)]
    vocab = set()
    for words in sentences:
        toks = [BOS] + list(words) + [EOS]
        vocab.update(words)
        for n in range(1, order + 1):
            for i in range(len(toks) - n + 1):
                raw[n][tuple(toks[i:i + n])] += 1
    # adjusted counts: continuation counts below the top order
    adj = {order: raw[order]}
    for n in range(order - 1, 0, -1):
        cont = Counter(g[1:] for g in raw[n + 1])
        adj[n] = Counter({g: c if g[0] == BOS else cont.get(g, 0) for g, c in raw[n].items()})

    model: Dict[int, Dict[Tuple[str, ...], List[float]]] = {}
    vocab_size = len(vocab | {EOS, UNK})  # <s> is never predicted
    lower_prob: Dict[Tuple[str, ...], float] = {}
    for n in range(1, order + 1):
        # <s> is only ever a context, never predicted: no unigram mass for it
        counts = {g: c for g, c in adj[n].items() if c > 0 and g != (BOS,)}
        d1, d2, d3 = _discounts(counts)
        ctx_total: Dict[Tuple[str, ...], float] = defaultdict(float)
        ctx_ns = defaultdict(lambda: [0, 0, 0])
        for g, c in counts.items():
            h = g[:-1]
            ctx_total[h] += c
            ctx_ns[h][min(c, 3) - 1] += 1
        gamma = {h: (d1 * ctx_ns[h][0] + d2 * ctx_ns[h][1] + d3 * ctx_ns[h][2]) / tot
                 for h, tot in ctx_total.items()}
        probs: Dict[Tuple[str, ...], float] = {}
        for g, c in counts.items():
            h = g[:-1]
            d = d1 if c == 1 else d2 if c == 2 else d3
            disc = max(c - d, 0.0) / ctx_total[h]
            lower = 1.0 / vocab_size if n == 1 else lower_prob[g[1:]]
            probs[g] = disc + gamma[h] * lower
        if n == 1:
            probs[(UNK,)] = gamma[()] / vocab_size
        model[n] = {g: [math.log10(p), 0.0] for g, p in probs.items()}
        if n == 1:
            model[1][(BOS,)] = [-99.0, 0.0]
        for h, gm in gamma.items():  # back-off weight of context h (an (n-1)-gram)
            if n > 1 and h in model[n - 1]:
                model[n - 1][h][1] = math.log10(gm) if gm > 0 else -99.0
        # every context h of an n-gram was itself seen, so it is in model[n-1]
        lower_prob = probs
    return model


def write_arpa(model, path: str):
    order = max(model)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n in range(1, order + 1):
            f.write(f"ngram {n}={len(model[n])}\n")
        for n in range(1, order + 1):
            f.write(f"\n\\{n}-grams:\n")
            for g in sorted(model[n]):
                lp, bo = model[n][g]
                backoff = f"\t{bo:.6f}" if n < order and bo != 0.0 else ""
                f.write(f"{lp:.6f}\t{' '.join(g)}{backoff}\n")
        f.write("\n\\end\\\n")


class NgramLM:
    """Back-off queries of an ARPA model, in natural logs.

    ``score(state, word)`` returns ``(logprob, new_state)``; the state is the shortest
    suffix of the history that the model can still extend (as KenLM's state
    minimization), which lets the decoder recombine more hypotheses without changing any
    score: if ``h`` is not an n-gram of the model, no longer n-gram continues it and its
    back-off weight is 1.
    """

    def __init__(self, path: str):
        self.prob: Dict[Tuple[str, ...], float] = {}
        self.backoff: Dict[Tuple[str, ...], float] = {}
        self.order = 0
        with gzip.open(path, "rt", encoding="utf-8") as f:
            section = 0
            for line in f:
                line = line.strip()
                if line.startswith("\\"):
                    section = int(line[1:line.index("-")]) if line.endswith("-grams:") else 0
                    self.order = max(self.order, section)
                elif line and section:
                    parts = line.split("\t")
                    g = tuple(parts[1].split())
                    self.prob[g] = float(parts[0]) * LN10
                    if len(parts) > 2:
                        self.backoff[g] = float(parts[2]) * LN10
        self.unk = self.prob[(UNK,)]

    def context_state(self, words: Tuple[str, ...]) -> Tuple[str, ...]:
        """The LM state after ``words``: their longest suffix (of at most order-1 words)
        that is a context of some n-gram of the model."""
        words = words[-(self.order - 1):] if self.order > 1 else ()
        while words and words not in self.backoff:
            words = words[1:]
        return words

    @functools.lru_cache(maxsize=2_000_000)
    def score(self, state: Tuple[str, ...], word: str) -> Tuple[float, Tuple[str, ...]]:
        lp, h = 0.0, state
        while h and h + (word,) not in self.prob:
            lp += self.backoff.get(h, 0.0)
            h = h[1:]
        lp += self.prob.get(h + (word,), self.unk)
        return lp, self.context_state(state + (word,))

    def begin(self) -> Tuple[str, ...]:
        return self.context_state((BOS,))
