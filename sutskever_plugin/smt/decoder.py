"""Phrase-based stack decoder with n-best extraction (Koehn 2004, Moses' "normal" search).

Hypotheses extend a partial translation left to right with the translation of an
uncovered source span; they live in stacks indexed by the number of source words covered
and are compared by model score plus a future-cost estimate of the uncovered spans.
Hypotheses with the same coverage, last source position and language-model state are
recombined (only the best is expanded); the losers are kept as "arcs" from which the
n-best list is extracted as Moses' TrellisPath does (:meth:`PhraseDecoder.nbest`).

Features, with Moses' names, signs and natural logs, so the n-best lists look like the
paper's (Moses) lists::

    Distortion0=      -sum |start_i - end_{i-1}|        (distance-based reordering)
    LM0=              ln p_LM(target)                   (with <s> and </s>)
    WordPenalty0=     -(number of target words)
    PhrasePenalty0=   number of phrases
    TranslationModel0= ln phi(s|t) ln lex(s|t) ln phi(t|s) ln lex(t|s)  (summed)
"""
import functools
import heapq
import itertools
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from .lm import EOS, NgramLM

FEATURE_NAMES = ["Distortion0", "LM0", "WordPenalty0", "PhrasePenalty0"] + ["TranslationModel0"] * 4
NUM_FEATURES = len(FEATURE_NAMES)
# Moses' defaults written by train-model.perl (the start point of tuning)
DEFAULT_WEIGHTS = [0.3, 0.5, -1.0, 0.2, 0.2, 0.2, 0.2, 0.2]


def group_features(values: Sequence[float]) -> List[Tuple[str, List[float]]]:
    """Feature vector -> Moses n-best feature groups (TM's four values under one label)."""
    return [(name, [v]) for name, v in zip(FEATURE_NAMES[:4], values)] + [
        ("TranslationModel0", list(values[4:8]))]


@dataclass
class DecoderConfig:
    stack_size: int = 100        # histogram pruning (Moses -s, default 100 ... 200)
    ttable_limit: int = 20       # translation options per source span (Moses default 20)
    distortion_limit: int = 6    # Moses default
    max_phrase_len: int = 7
    nbest: int = 100


# distinct surface strings (Moses -distinct): paths examined per n-best entry, as Moses
PATHS_PER_ENTRY = 20


class _Option:
    __slots__ = ("words", "static", "delta_tm", "inner_lm", "final_state", "nctx", "text")

    def __init__(self, words, static, delta_tm, inner_lm, final_state, nctx):
        self.words, self.text = words, " " + " ".join(words)
        self.static, self.delta_tm, self.inner_lm = static, delta_tm, inner_lm
        self.final_state, self.nctx = final_state, nctx


class _Hyp:
    __slots__ = ("score", "prev", "coverage", "last_end", "state", "opt", "dist", "lm",
                 "arcs", "fscore", "out")

    def __init__(self, score, prev, coverage, last_end, state, opt, dist, lm, fscore, out):
        self.score, self.prev, self.coverage, self.last_end = score, prev, coverage, last_end
        self.state, self.opt, self.dist, self.lm = state, opt, dist, lm
        self.fscore = fscore  # score + future cost, the pruning criterion
        self.out = out  # target words so far (to drop spurious-ambiguity arcs)
        self.arcs = None


class PhraseDecoder:
    def __init__(self, phrase_table: Dict[str, list], lm: NgramLM, weights: Sequence[float],
                 config: DecoderConfig):
        self.pt, self.lm, self.cfg = phrase_table, lm, config
        self.w = [float(x) for x in weights]

    def _options(self, src: List[str]):
        """Translation options per span, best ``ttable_limit`` by estimated score."""
        w = self.w
        lm, order = self.lm, self.lm.order
        n = len(src)
        opts: Dict[Tuple[int, int], List[_Option]] = {}
        for i in range(n):
            for j in range(i + 1, min(n, i + self.cfg.max_phrase_len) + 1):
                entries = self.pt.get(" ".join(src[i:j]))
                if not entries:
                    if j == i + 1:
                        # unknown word: copied to the output (Moses' pass-through); every
                        # hypothesis of the sentence contains it, so it costs nothing extra
                        entries = [((src[i],), (0.0, 0.0, 0.0, 0.0))]
                    else:
                        continue
                cands = []
                for words, tm in entries:
                    # LM score inside the phrase: words from position order-1 on have their
                    # whole context inside the phrase, so that part is exact; the first
                    # words are scored at expansion time with the real context.
                    state, est, inner = (), 0.0, 0.0
                    for k, wd in enumerate(words):
                        lp, state = lm.score(state, wd)
                        est += lp
                        if k >= order - 1:
                            inner += lp
                    nctx = min(len(words), order - 1)
                    final_state = lm.context_state(words) if len(words) >= order - 1 else None
                    tm_w = w[4] * tm[0] + w[5] * tm[1] + w[6] * tm[2] + w[7] * tm[3]
                    static = tm_w + w[2] * -len(words) + w[3] + w[1] * inner
                    est_score = static + w[1] * (est - inner)
                    cands.append((est_score, _Option(words, static, tuple(tm), inner,
                                                     final_state, nctx)))
                cands.sort(key=lambda x: -x[0])
                opts[i, j] = cands[: self.cfg.ttable_limit]
        return opts

    def _future_costs(self, n, opts):
        """fc[i][j]: best estimated score of translating span i..j (Moses' future cost)."""
        NEG = float("-inf")
        fc = [[NEG] * (n + 1) for _ in range(n + 1)]
        for length in range(1, n + 1):
            for i in range(0, n - length + 1):
                j = i + length
                best = opts[i, j][0][0] if (i, j) in opts else NEG
                fc[i][j] = max([best] + [fc[i][k] + fc[k][j] for k in range(i + 1, j)])
        return fc

    def decode(self, src: List[str]):
        """Return the final hypothesis (with arcs for n-best, best first) or None if none
        covers the whole (or an empty) input."""
        n = len(src)
        cfg, w, lm = self.cfg, self.w, self.lm
        w_d, w_lm = w[0], w[1]
        dl = cfg.distortion_limit
        opts = self._options(src)
        fc = self._future_costs(n, opts)
        full = (1 << n) - 1
        span_list = sorted(opts.keys())
        span_mask = {(i, j): ((1 << j) - 1) ^ ((1 << i) - 1) for i, j in span_list}

        @functools.cache
        def future(cov):
            """The future cost of the gaps of coverage bitmask ``cov``."""
            v, i = 0.0, 0
            while i < n:
                if cov >> i & 1:
                    i += 1
                    continue
                j = i
                while j < n and not cov >> j & 1:
                    j += 1
                v += fc[i][j]
                i = j
            return v

        stacks: List[Dict] = [dict() for _ in range(n + 1)]
        thresholds = [float("-inf")] * (n + 1)
        start = _Hyp(0.0, None, 0, 0, lm.begin(), None, 0.0, 0.0, future(0), "")
        stacks[0][(0, 0, start.state)] = start
        size = cfg.stack_size
        keep_arcs = cfg.nbest > 1

        def prune(m):
            st = stacks[m]
            if len(st) > size:
                keep = heapq.nlargest(size, st.items(), key=lambda kv: kv[1].fscore)
                stacks[m] = dict(keep)
                thresholds[m] = keep[-1][1].fscore

        for k in range(n):
            prune(k)
            hyps = sorted(stacks[k].values(), key=lambda h: -h.fscore)
            for hyp in hyps:
                cov = hyp.coverage
                first_gap = (~cov & (cov + 1)).bit_length() - 1  # first uncovered position
                for (i, j) in span_list:
                    mask = span_mask[i, j]
                    if cov & mask:
                        continue
                    dist = abs(i - hyp.last_end)
                    if dist > dl:
                        continue
                    # leaving a gap behind: it must stay reachable within the limit
                    if i > first_gap and j - first_gap > dl:
                        continue
                    new_cov = cov | mask
                    m = k + (j - i)
                    fut = future(new_cov)
                    base = hyp.score - w_d * dist + fut
                    thr = thresholds[m]
                    stack_m = stacks[m]
                    for est, opt in opts[i, j]:
                        if base + est < thr - 1e-9 and len(stack_m) >= size:
                            # early discard: estimate already below the stack's threshold
                            # (estimates use context-free LM, so this is heuristic, as Moses)
                            break
                        state = hyp.state
                        lm_inc = 0.0
                        words = opt.words
                        for t in range(opt.nctx):
                            lp, state = lm.score(state, words[t])
                            lm_inc += lp
                        if opt.final_state is not None:
                            state = opt.final_state
                        lm_step = lm_inc + opt.inner_lm
                        if new_cov == full:
                            lp, _ = lm.score(state, EOS)
                            lm_step += lp
                            lm_inc += lp
                            key = (full,)
                        else:
                            key = (new_cov, j, state)
                        score = hyp.score + opt.static + w_lm * lm_inc - w_d * dist
                        fscore = score + fut
                        if fscore < thr and len(stack_m) >= size:
                            continue
                        old = stack_m.get(key)
                        out = hyp.out + opt.text
                        if old is not None and old.score >= score and (
                                not keep_arcs or old.out == out):
                            # a loser is kept only as an arc for the n-best list, and not if
                            # it has the same words by another segmentation ("spurious
                            # ambiguity"): as an arc it would only add duplicate strings
                            continue
                        new = _Hyp(score, hyp, new_cov, j, state, opt, -float(dist), lm_step,
                                   fscore, out)
                        if old is None:
                            stack_m[key] = new
                        elif score > old.score:
                            new.arcs = ([] if old.out == out else [old]) + (old.arcs or [])
                            old.arcs = None
                            stack_m[key] = new
                        else:
                            old.arcs = old.arcs or []
                            old.arcs.append(new)
                    if len(stack_m) > 2 * size:
                        prune(m)
        for st in stacks:
            for hyp in st.values():
                if hyp.arcs:
                    hyp.arcs.sort(key=lambda a: -a.score)
        return stacks[n].get((full,))

    def nbest(self, src: List[str]):
        """Return ``[(hyp string, feature vector, score)]`` best first.

        Paths are enumerated lazily best first: a path is its parent path with the node at
        position ``pos`` (counted from the final hypothesis back) replaced by that node's
        ``idx``-th best arc; deviations of one path are at increasing positions, so every
        path is produced once. Its score is the parent's, minus the node's, plus the arc's
        (recombined hypotheses share all later steps).
        """
        n = self.cfg.nbest
        root = self.decode(src)
        if root is None:
            return []
        w = self.w
        out, seen = [], set()
        counter = itertools.count()
        # heap entry: (-score, tie, parent nodes, parent score, pos, idx)
        heap = [(-root.score, next(counter), None, 0.0, -1, 0)]
        max_paths = n * PATHS_PER_ENTRY
        popped = 0
        while heap and len(out) < n and popped < max_paths:
            neg, _, parent, pscore, pos, idx = heapq.heappop(heap)
            score = -neg
            popped += 1
            if parent is None:
                nodes = _chain(root)
            else:
                node = parent[pos]
                arcs = node.arcs
                nodes = parent[:pos] + _chain(arcs[idx])
                if idx + 1 < len(arcs):  # next sibling: the next best arc at this node
                    heapq.heappush(heap, (-(pscore - node.score + arcs[idx + 1].score),
                                          next(counter), parent, pscore, pos, idx + 1))
            words = []
            feats = [0.0] * NUM_FEATURES
            for node in reversed(nodes):
                words.extend(node.opt.words)
                # this step's feature values (see FEATURE_NAMES)
                delta = (node.dist, node.lm, -float(len(node.opt.words)), 1.0) + node.opt.delta_tm
                for f, v in enumerate(delta):
                    feats[f] += v
            hyp = " ".join(words)
            if hyp not in seen:
                seen.add(hyp)
                out.append((hyp, feats, sum(a * b for a, b in zip(w, feats))))
            for p in range(pos + 1, len(nodes)):
                nd = nodes[p]
                arcs = nd.arcs
                if arcs:
                    heapq.heappush(heap, (-(score - nd.score + arcs[0].score), next(counter),
                                          nodes, score, p, 0))
        return out


def _chain(hyp) -> Tuple:
    nodes = []
    while hyp is not None and hyp.opt is not None:
        nodes.append(hyp)
        hyp = hyp.prev
    return tuple(nodes)
