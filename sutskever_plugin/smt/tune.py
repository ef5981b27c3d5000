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


Pool = List[Dict[str, Tuple[list, np.ndarray]]]  # per sentence {hyp: (features, BLEU stats)}


def pool_arrays(pool: Pool) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features [S,K,D], stats [S,K,10], valid [S,K]) of the pool's hypotheses."""
    feats = pad_blocks([np.asarray([f for f, _ in e.values()], dtype=np.float64) for e in pool])
    stats = pad_blocks([np.asarray([s for _, s in e.values()]).reshape(-1, STATS) for e in pool])
    valid = np.arange(feats.shape[1]) < np.array([len(e) for e in pool])[:, None]
    return feats, stats, valid


def _chosen_bleu(scores: np.ndarray, stats, valid) -> np.ndarray:
    """Corpus BLEU of the 1-best hypotheses by ``scores`` ([..., S, K])."""
    best = np.argmax(np.where(valid, scores, -np.inf), axis=-1)  # [..., S]
    chosen = stats[np.arange(stats.shape[0]), best]  # [..., S, 10]
    return corpus_bleu(chosen.sum(-2))


def bleu_of_weights(weights: np.ndarray, feats, stats, valid) -> float:
    """Dev BLEU of the 1-best chosen by ``weights`` from the pool."""
    return float(_chosen_bleu(feats @ weights, stats, valid))


def _line_values(feats, stats, valid, w, d, cands, chunk=16) -> np.ndarray:
    """BLEU for each value in ``cands`` of weight ``d`` (others fixed)."""
    base = feats @ w - feats[..., d] * w[d]  # [S, K]
    fd = feats[..., d]
    out = np.empty(len(cands))
    for c0 in range(0, len(cands), chunk):
        c = np.asarray(cands[c0:c0 + chunk])
        out[c0:c0 + chunk] = _chosen_bleu(base[None] + c[:, None, None] * fd[None], stats, valid)
    return out


def _normalize(w: np.ndarray) -> np.ndarray:
    s = np.abs(w).sum()
    return w / s if s > 0 else w


def optimize_weights(
    feats: np.ndarray, stats: np.ndarray, valid: np.ndarray, init: Sequence[float],
    restarts: int = 8, seed: int = 1, fixed_sign: Optional[Dict[int, int]] = None,
) -> Tuple[np.ndarray, float]:
    """Coordinate search with random restarts; returns (L1-normalized weights, dev BLEU).

    ``fixed_sign``: {dimension: +1/-1} keeps a weight's sign (the LM weight must stay
    positive, or the search may learn to prefer ungrammatical output on a small dev set).
    """
    rng = np.random.RandomState(seed)
    dim = feats.shape[-1]
    fixed_sign = fixed_sign or {}
    grid = np.linspace(-1.0, 1.0, 41)

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
        for _ in range(8):  # sweeps over the weights
            improved = False
            for d in rng.permutation(dim):
                fine = w[d] + np.linspace(-0.1, 0.1, 21) * max(abs(w[d]), 0.05) * 5
                cands = np.unique(np.concatenate([grid, fine, [w[d]]]))
                if d in fixed_sign:
                    cands = cands[cands * fixed_sign[d] > 0]
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
         iterations: int = 5, seed: int = 1, log: Callable[[str], None] = print):
    """The MERT outer loop: decode, grow the pool, re-optimize; returns
    ``(weights, decoded dev BLEU, history)``.

    ``decode(weights)`` returns per sentence ``[(hyp, features, score), ...]``. The
    weights returned are the best *decoded* ones (decoding, not the pool, is the truth).
    Stops when the pool gains nothing, or when the pool optimum stopped growing and the
    decoder already reaches it (within 0.3 BLEU), or after ``iterations`` decodes.
    """
    pool: Pool = [{} for _ in refs]  # the hypotheses of all iterations
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
                if h not in pool[sid]:
                    pool[sid][h] = (f, row)
                    added += 1
        history.append({"iteration": it, "weights": [round(float(x), 6) for x in weights],
                        "decoded_dev_bleu": dev_bleu, "new_hypotheses": int(added),
                        "pool_size": sum(map(len, pool))})
        if added == 0:
            log(f"tune iteration {it}: dev BLEU {dev_bleu:.2f}, no new hypotheses: converged")
            break
        feats, stats, valid = pool_arrays(pool)
        new_w, pool_bleu = optimize_weights(feats, stats, valid, weights, seed=seed + it,
                                            fixed_sign={1: +1})  # LM weight stays positive
        history[-1]["pool_bleu_after"] = round(pool_bleu, 2)
        log(f"tune iteration {it}: dev BLEU {dev_bleu:.2f} with current weights, {added} new "
            f"hypotheses, pool-optimized BLEU {pool_bleu:.2f}")
        if pool_bleu <= prev_pool_bleu + 0.05 and dev_bleu >= pool_bleu - 0.3:
            break
        prev_pool_bleu = pool_bleu
        weights = new_w
    return best[1], best[0], history
