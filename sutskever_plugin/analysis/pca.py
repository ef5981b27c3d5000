"""2-D PCA (numpy SVD) and simple measures of how sentence vectors cluster."""
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np


@dataclass
class PCAResult:
    coords: np.ndarray           # n x k projections
    explained: np.ndarray        # share of the total variance of each of the k components
    components: np.ndarray       # k x d


def pca(x: np.ndarray, k: int = 2) -> PCAResult:
    """Project the rows of ``x`` on their first ``k`` principal components.

    Signs are fixed (the largest-magnitude loading of each component is positive) so
    that reruns give the same picture.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"PCA needs an n x d matrix with n >= 2, got shape {x.shape}")
    centered = x - x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    vt = vt[:k]
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1
    vt = vt * signs[:, None]
    total = float((s ** 2).sum())
    explained = (s[:k] ** 2) / total if total > 0 else np.zeros(len(vt))
    return PCAResult(centered @ vt.T, explained, vt)


@dataclass
class ClusterStats:
    n: int
    nn_same_meaning: int       # phrases whose nearest neighbour (full vector) has their meaning
    within_mean: float         # mean distance between phrases of the same meaning
    between_mean: float        # ... of different meanings
    bow_twins: int             # cross-meaning pairs with identical bags of words

    @property
    def ratio(self) -> float:
        return self.within_mean / self.between_mean if self.between_mean > 0 else float("nan")


def _distances(x: np.ndarray) -> np.ndarray:
    sq = (x ** 2).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2 * x @ x.T
    return np.sqrt(np.clip(d2, 0, None))


def cluster_stats(x: np.ndarray, meanings: Sequence[str], phrases: Sequence[str]) -> ClusterStats:
    """How well Euclidean distances between the full sentence vectors follow meaning."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    d = _distances(x)
    same = np.array([[a == b for b in meanings] for a in meanings])
    off = ~np.eye(n, dtype=bool)
    nn = np.where(off, d, np.inf).argmin(axis=1)
    nn_same = int(sum(meanings[i] == meanings[j] for i, j in enumerate(nn)))
    within = d[same & off]
    between = d[~same]
    bags: List[tuple] = [tuple(sorted(p.split())) for p in phrases]
    twins = sum(1 for i in range(n) for j in range(i + 1, n)
                if meanings[i] != meanings[j] and bags[i] == bags[j])
    return ClusterStats(n, nn_same, float(within.mean()) if within.size else float("nan"),
                        float(between.mean()) if between.size else float("nan"), twins)
