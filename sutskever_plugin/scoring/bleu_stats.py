"""BLEU sufficient statistics for choosing among n-best hypotheses: weight tuning (the
baseline's MERT-like tuning, the LSTM/SMT weight) evaluates corpus BLEU for thousands of
weights, so each hypothesis' n-gram statistics are taken once from the project's scorer
(:func:`.bleu.tokenized_metric`) and combined with numpy; ``corpus_bleu`` reproduces
sacreBLEU's corpus BLEU (tested), so tuning optimizes the number the tables report.
"""
from typing import List, Sequence

import numpy as np

from .bleu import tokenized_metric

NGRAM = 4
STATS = 2 + 2 * NGRAM  # hyp_len, ref_len, correct_1..4, total_1..4


def sentence_stats(hyps: Sequence[str], refs: Sequence[str]) -> np.ndarray:
    """[len(hyps), 10] statistics, ``refs[i]`` the reference of ``hyps[i]``."""
    if len(hyps) != len(refs):
        raise ValueError(f"{len(hyps)} hypotheses vs {len(refs)} references")
    if not hyps:
        return np.zeros((0, STATS))
    stats = tokenized_metric()._extract_corpus_statistics(list(hyps), [list(refs)])
    return np.asarray(stats, dtype=np.float64)


def corpus_bleu(stats: np.ndarray) -> np.ndarray:
    """BLEU (0..100) of summed statistics; ``stats[..., 10]`` -> shape ``stats.shape[:-1]``.

    As sacreBLEU's corpus BLEU with its default ``exp`` smoothing: an n-gram order with
    no match gets precision 1 / (2^k total), k counting such orders so far; 0 if nothing
    matches at all or an order has no n-gram.
    """
    stats = np.asarray(stats, dtype=np.float64)
    sys_len, ref_len = stats[..., 0], stats[..., 1]
    correct, total = stats[..., 2:2 + NGRAM], stats[..., 2 + NGRAM:]
    zero = correct == 0
    k = np.cumsum(zero, axis=-1)
    safe_total = np.maximum(total, 1.0)
    prec = np.where(zero, 1.0 / (np.power(2.0, k) * safe_total), correct / safe_total)
    log_prec = np.log(prec).mean(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(sys_len < ref_len, 1.0 - ref_len / np.maximum(sys_len, 1e-300), 0.0)
    bleu = np.exp(log_prec + bp) * 100.0
    ok = (sys_len > 0) & (total > 0).all(axis=-1) & (~zero).any(axis=-1)
    return np.where(ok, bleu, 0.0)


def pad_blocks(blocks: List[np.ndarray], fill: float = 0.0) -> np.ndarray:
    """Stack per-sentence [K_i, D] arrays into [S, max K, D] (missing rows = fill)."""
    kmax = max(b.shape[0] for b in blocks)
    dim = blocks[0].shape[1]
    out = np.full((len(blocks), kmax, dim), fill, dtype=np.float64)
    for i, b in enumerate(blocks):
        out[i, : b.shape[0]] = b
    return out

