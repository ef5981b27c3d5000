"""Combine baseline and LSTM scores and re-rank n-best lists.

Section 3.6 of the paper: "we used an LSTM to rescore the publicly available 1000-best
lists of the baseline system ... we computed the log probability of every hypothesis
with our LSTM and took an even average with their score and the LSTM's score". So the
new score is

    score = (1 - lambda) * baseline_total + lambda * log p_LSTM(hyp | source)

with lambda = 0.5 for the paper's average. The two scores live on different scales (a
Moses total score is a weighted sum of feature values), so we also tune lambda on a dev
n-best list (an option the paper did not use; reported separately).
"""
from typing import List, Sequence, Tuple

import numpy as np

from ..scoring.bleu_stats import corpus_bleu, sentence_stats
from ..data.nbest import NbestEntry

LSTM_FEATURE = "LSTM"          # added column: log p_LSTM(hypothesis | source)
BASELINE_FEATURE = "Baseline"  # added column: the baseline's original total score
PAPER_WEIGHT = 0.5


def combined(baseline: np.ndarray, lstm: np.ndarray, weight: float) -> np.ndarray:
    return (1.0 - weight) * np.asarray(baseline) + weight * np.asarray(lstm)


def rerank(blocks: Sequence[List[NbestEntry]], lstm_scores: Sequence[np.ndarray],
           weight: float) -> List[List[NbestEntry]]:
    """New blocks: LSTM and baseline columns added, total = combined score, best first.

    Ties keep the baseline order (stable sort), so with weight 0 nothing moves.
    """
    out = []
    for block, lstm in zip(blocks, lstm_scores):
        base = np.array([e.score for e in block])
        total = combined(base, lstm, weight)
        entries = []
        for e, b, l, t in zip(block, base, lstm, total):
            ne = e.with_feature(BASELINE_FEATURE, [b]).with_feature(LSTM_FEATURE, [l])
            ne.score = float(t)
            entries.append(ne)
        out.append(sorted(entries, key=lambda e: -e.score))
    return out


def one_best(blocks: Sequence[List[NbestEntry]]) -> List[str]:
    return [b[0].hyp for b in blocks]


def tune_weight(blocks: Sequence[List[NbestEntry]], lstm_scores: Sequence[np.ndarray],
                refs: Sequence[str]) -> Tuple[float, List[Tuple[float, float]]]:
    """Grid search of lambda (0, 0.05, ..., 1) on a dev n-best list; returns (best,
    [(lambda, BLEU)]).

    BLEU is the project's tokenized corpus BLEU (exact, from sacreBLEU statistics). On
    ties the value closest to the paper's 0.5 wins.
    """
    stats = [sentence_stats([e.hyp for e in b], [r] * len(b)) for b, r in zip(blocks, refs)]
    base = [np.array([e.score for e in b]) for b in blocks]
    table = []
    for w in np.round(np.arange(0.0, 1.0 + 1e-9, 0.05), 6):
        total = np.zeros(stats[0].shape[1])
        for st, b, l in zip(stats, base, lstm_scores):
            total += st[int(np.argmax(combined(b, l, w)))]
        table.append((float(w), float(corpus_bleu(total))))
    best_bleu = max(b for _, b in table)
    best = min((abs(w - PAPER_WEIGHT), w) for w, b in table if b >= best_bleu - 1e-9)[1]
    return best, table


def score_spread(base_scores: Sequence[np.ndarray], lstm_scores: Sequence[np.ndarray]) -> dict:
    """How much each system's score varies within an n-best list (mean over the lists of
    two or more hypotheses of the population sd), and how often the even average picks
    each system's own best: the system with the larger spread mostly decides it."""
    sd_b, sd_l, same_l, same_b = [], [], [], []
    for b, l in zip(base_scores, lstm_scores):
        b, l = np.asarray(b, dtype=float), np.asarray(l, dtype=float)
        if len(b) < 2:
            continue
        sd_b.append(b.std())
        sd_l.append(l.std())
        pick = int(np.argmax(combined(b, l, PAPER_WEIGHT)))
        same_l.append(pick == int(np.argmax(l)))
        same_b.append(pick == int(np.argmax(b)))
    if not sd_b:
        raise ValueError("no n-best list has two or more hypotheses: no spread to measure")
    mean_b, mean_l = float(np.mean(sd_b)), float(np.mean(sd_l))
    return {"sd_baseline": mean_b, "sd_lstm": mean_l,
            "sd_ratio": mean_l / mean_b if mean_b > 0 else float("inf"),
            "lambda05_is_lstm_best": float(np.mean(same_l)),
            "lambda05_is_baseline_best": float(np.mean(same_b)), "lists": len(sd_b)}


def scores_from_rescored(blocks: Sequence[List[NbestEntry]]):
    """(baseline, LSTM) scores read back from the columns a rescored list carries."""
    base, lstm = [], []
    for block in blocks:
        try:
            base.append(np.array([e.feature(BASELINE_FEATURE)[0] for e in block]))
            lstm.append(np.array([e.feature(LSTM_FEATURE)[0] for e in block]))
        except KeyError as e:
            raise ValueError(f"sentence {block[0].sent_id}: no {e.args[0]}= column; is this "
                             "the output of sutskever_plugin.rescoring.rescore?") from None
    return base, lstm
