"""Feature-weight tuning on the dev set: a small MERT (Och 2003).

Moses systems, such as the paper's baseline, set their log-linear weights with MERT:
decode the dev set into n-best lists, choose the weights that maximize dev BLEU of the
re-ranked lists, decode again with the new weights, merge the new hypotheses into the
pool, and repeat until the pool stops growing. We keep that outer loop and replace
Och's exact line search by a coordinate search over a grid of values per weight
(evaluated exactly, vectorized with numpy) with a few random restarts, which is enough
for eight features.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..scoring.bleu_stats import STATS, corpus_bleu, pad_blocks, sentence_stats


class NbestPool:
    """Per-sentence union of the hypotheses of all tuning iterations."""

    def __init__(self, num_sentences: int):
        self.seen: List[Dict[str, int]] = [dict() for _ in range(num_sentences)]
        self.feats: List[List[Sequence[float]]] = [[] for _ in range(num_sentences)]
        self.stats: List[List[np.ndarray]] = [[] for _ in range(num_sentences)]

    def add(self, sent: int, hyp: str, feats: Sequence[float], stats: np.ndarray) -> bool:
        if hyp in self.seen[sent]:
            return False
        self.seen[sent][hyp] = len(self.feats[sent])
        self.feats[sent].append(list(feats))
        self.stats[sent].append(np.asarray(stats, dtype=np.float64))
        return True

    def size(self) -> int:
        return sum(len(f) for f in self.feats)

    def arrays(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(features [S,K,D], stats [S,K,10], valid [S,K])."""
        feats = pad_blocks([np.asarray(f, dtype=np.float64) for f in self.feats])
        stats = pad_blocks([np.asarray(s, dtype=np.float64).reshape(-1, STATS)
                            for s in self.stats])
        valid = np.zeros(feats.shape[:2], dtype=bool)
        for i, f in enumerate(self.feats):
            valid[i, : len(f)] = True
        return feats, stats, valid


def bleu_of_weights(weights: np.ndarray, feats, stats, valid) -> float:
    """Dev BLEU of the 1-best chosen by ``weights`` from the pool."""
    scores = feats @ weights
    best = np.argmax(np.where(valid, scores, -np.inf), axis=1)
    chosen = stats[np.arange(stats.shape[0]), best]
    return float(corpus_bleu(chosen.sum(0)))


def _line_values(feats, stats, valid, w, d, cands, chunk=16) -> np.ndarray:
    """BLEU for each value in ``cands`` of weight ``d`` (others fixed)."""
    base = feats @ w - feats[..., d] * w[d]  # [S, K]
    fd = feats[..., d]
    rows = np.arange(feats.shape[0])
    out = np.empty(len(cands))
    for c0 in range(0, len(cands), chunk):
        c = np.asarray(cands[c0:c0 + chunk])
        scores = base[None] + c[:, None, None] * fd[None]  # [C, S, K]
        scores = np.where(valid[None], scores, -np.inf)
        best = np.argmax(scores, axis=2)  # [C, S]
        chosen = stats[rows[None, :], best]  # [C, S, 10]
        out[c0:c0 + chunk] = corpus_bleu(chosen.sum(1))
    return out


def _normalize(w: np.ndarray) -> np.ndarray:
    s = np.abs(w).sum()
    return w / s if s > 0 else w


def optimize_weights(
    feats: np.ndarray, stats: np.ndarray, valid: np.ndarray, init: Sequence[float],
    restarts: int = 8, seed: int = 1, fixed_sign: Optional[Dict[int, int]] = None,
    max_sweeps: int = 8,
) -> Tuple[np.ndarray, float]:
    """Coordinate search with random restarts; returns (L1-normalized weights, dev BLEU).

    ``fixed_sign``: {dimension: +1/-1} keeps a weight's sign (the LM weight must stay
    positive, or the search may learn to prefer ungrammatical output on a small dev set).
    """
    rng = np.random.RandomState(seed)
    dim = feats.shape[-1]
    fixed_sign = fixed_sign or {}
    grid = np.linspace(-1.0, 1.0, 41)

    def allowed(d, values):
        s = fixed_sign.get(d)
        if s is None:
            return values
        return values[values * s > 0]

    starts = [_normalize(np.asarray(init, dtype=np.float64))]
    for _ in range(restarts):
        w = rng.uniform(-1, 1, size=dim)
        for d, s in fixed_sign.items():
            w[d] = abs(w[d]) * s
        starts.append(_normalize(w))
    best_w, best_bleu = starts[0], bleu_of_weights(starts[0], feats, stats, valid)
    for w in starts:
        w = w.copy()
        cur = bleu_of_weights(w, feats, stats, valid)
        for _ in range(max_sweeps):
            improved = False
            for d in rng.permutation(dim):
                fine = w[d] + np.linspace(-0.1, 0.1, 21) * max(abs(w[d]), 0.05) * 5
                cands = allowed(d, np.unique(np.concatenate([grid, fine, [w[d]]])))
                if len(cands) == 0:
                    continue
                vals = _line_values(feats, stats, valid, w, d, cands)
                top = vals.max()
                if top > cur + 1e-9:
                    # the middle of the best plateau: BLEU is piecewise constant in a
                    # weight, and the plateau's centre generalizes better than its edge
                    winners = cands[vals >= top - 1e-9]
                    w[d] = winners[len(winners) // 2]
                    cur = top
                    improved = True
            w = _normalize(w)
            cur = bleu_of_weights(w, feats, stats, valid)
            if not improved:
                break
        if cur > best_bleu + 1e-9:
            best_w, best_bleu = w.copy(), cur
    return best_w, best_bleu


def mert(decode: Callable[[np.ndarray], list], refs: Sequence[str], init: Sequence[float],
         iterations: int = 5, seed: int = 1, log: Callable[[str], None] = print,
         fixed_sign: Optional[Dict[int, int]] = None):
    """The MERT outer loop: decode, grow the pool, re-optimize; returns
    ``(weights, decoded dev BLEU, history)``.

    ``decode(weights)`` returns per sentence ``[(hyp, features, score), ...]``. The
    weights returned are the best *decoded* ones (decoding, not the pool, is the truth).
    Stops when the pool gains nothing, or when the pool optimum stopped growing and the
    decoder already reaches it (within 0.3 BLEU), or after ``iterations`` decodes.
    """
    fixed_sign = {1: +1} if fixed_sign is None else fixed_sign  # LM weight stays positive
    pool = NbestPool(len(refs))
    weights = np.asarray(init, dtype=np.float64)
    best = (-1.0, weights)
    history: List[Dict] = []
    prev_pool_bleu = -1.0
    for it in range(1, iterations + 1):
        results = decode(weights)
        dev_stats = sentence_stats([r[0][0] for r in results], refs).sum(0)
        dev_bleu = round(float(corpus_bleu(dev_stats)), 2)
        if dev_bleu > best[0]:
            best = (dev_bleu, weights.copy())
        added = 0
        for sid, hyps in enumerate(results):
            st = sentence_stats([h for h, _, _ in hyps], [refs[sid]] * len(hyps))
            for (h, f, _), row in zip(hyps, st):
                added += pool.add(sid, h, f, row)
        history.append({"iteration": it, "weights": [round(float(x), 6) for x in weights],
                        "decoded_dev_bleu": dev_bleu, "new_hypotheses": int(added),
                        "pool_size": pool.size()})
        if added == 0:
            log(f"tune iteration {it}: dev BLEU {dev_bleu:.2f}, no new hypotheses: converged")
            break
        feats, stats, valid = pool.arrays()
        new_w, pool_bleu = optimize_weights(feats, stats, valid, weights, seed=seed + it,
                                            fixed_sign=fixed_sign)
        history[-1]["pool_bleu_after"] = round(pool_bleu, 2)
        log(f"tune iteration {it}: dev BLEU {dev_bleu:.2f} with current weights, {added} new "
            f"hypotheses, pool-optimized BLEU {pool_bleu:.2f}")
        if pool_bleu <= prev_pool_bleu + 0.05 and dev_bleu >= pool_bleu - 0.3:
            break
        prev_pool_bleu = pool_bleu
        weights = new_w
    return best[1], best[0], history
