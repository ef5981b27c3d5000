"""Word-level vocabularies as in the paper: keep the most frequent words, the rest is UNK.

The paper kept 160,000 source and 80,000 target words of 12M pairs (a target word costs a
softmax row at every decoding step, a source word only an embedding lookup).  At small
scale the rule follows the data: the words seen at least ``min_count`` times (a word seen
once cannot get a useful embedding), source capped at 2 x target; the valid-set OOV rates
of other thresholds go to ``summary.json``.  Sizes given to fairseq-preprocess count its 4
specials (<s>, <pad>, </s>, <unk>), as the paper's count UNK and EOS.
"""
from collections import Counter
from typing import Dict, Iterable, List

from .textio import read_lines

FAIRSEQ_SPECIALS = 4  # <s> <pad> </s> <unk>
PAPER_NWORDS_SRC = 160_000
PAPER_NWORDS_TGT = 80_000


def count_words(path: str) -> Counter:
    c: Counter = Counter()
    for line in read_lines(path):
        c.update(line.split())
    return c


def oov_rate(eval_counts: Counter, vocab: Iterable[str]) -> float:
    """Fraction of running tokens (not types) of ``eval_counts`` outside ``vocab``."""
    vocab = set(vocab)
    total = sum(eval_counts.values())
    if total == 0:
        return 0.0
    return sum(n for w, n in eval_counts.items() if w not in vocab) / total


def words_seen(counts: Counter, min_count: int) -> List[str]:
    return [w for w, n in counts.items() if n >= min_count]


def choose_vocab_sizes(
    src_train: Counter, tgt_train: Counter, src_valid: Counter, tgt_valid: Counter, min_count: int
) -> Dict:
    """Vocabulary sizes for fairseq-preprocess, with the measurements behind them."""
    tgt_words = len(words_seen(tgt_train, min_count))
    src_words = min(len(words_seen(src_train, min_count)), 2 * tgt_words)
    candidates = []
    for k in sorted({1, 2, 3, 5, min_count}):
        s, t = words_seen(src_train, k), words_seen(tgt_train, k)
        candidates.append(
            {
                "min_count": k,
                "src_words": len(s),
                "tgt_words": len(t),
                "valid_oov_src": round(oov_rate(src_valid, s), 5),
                "valid_oov_tgt": round(oov_rate(tgt_valid, t), 5),
            }
        )
    return {
        "rule": (
            f"keep the words seen >= {min_count} times in the training text, source capped "
            f"at 2 x target (paper: 160k source / 80k target on 12M pairs); other words -> <unk>"
        ),
        "min_count": min_count,
        "src_types_train": len(src_train),
        "tgt_types_train": len(tgt_train),
        "src_words": src_words,
        "tgt_words": tgt_words,
        "nwordssrc": src_words + FAIRSEQ_SPECIALS,
        "nwordstgt": tgt_words + FAIRSEQ_SPECIALS,
        "candidates": candidates,
    }


def read_fairseq_dict(path: str) -> List[str]:
    """Words of a fairseq ``dict.*.txt`` (without the 4 specials fairseq adds on load)."""
    words = []
    for line in read_lines(path):
        if line.strip():
            words.append(line.rsplit(" ", 2)[0] if line.endswith("#fairseq:overwrite") else line.rsplit(" ", 1)[0])
    return words
