"""Word-level vocabularies as in the paper: keep the most frequent words, the rest is UNK.

The paper used 160,000 source and 80,000 target words on 12M sentence pairs (304M
English / 348M French words): every other word became "UNK".  The target list is half
the source one because each target word costs a row of the softmax at every decoding
step, while a source word costs only an embedding lookup.

Those sizes are meaningless for a 29k-pair corpus (Multi30k has ~11k word types per
language), so at small scale we scale the rule to the data: keep the words seen at least
``min_count`` times in the training text (a word seen once cannot get a useful embedding
or output row), and keep the paper's cap of "source <= 2 x target".  The OOV token rates
this gives on the validation set are measured and written to ``summary.json`` together
with those of other thresholds, so the choice can be checked.

Sizes passed to fairseq-preprocess (``--nwordssrc/--nwordstgt``) count its 4 special
symbols (<s>, <pad>, </s>, <unk>), as the paper's 160k/80k count UNK and EOS; fairseq then
pads the dictionary to a multiple of 8 with unused ``madeupwordNNNN`` entries.
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


def top_words(counts: Counter, n: int) -> List[str]:
    """The ``n`` most frequent words, ties broken alphabetically (as fairseq's finalize)."""
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def types_with_count(counts: Counter, min_count: int) -> int:
    return sum(1 for n in counts.values() if n >= min_count)


def choose_vocab_sizes(
    src_train: Counter, tgt_train: Counter, src_valid: Counter, tgt_valid: Counter, min_count: int
) -> Dict:
    """Vocabulary sizes for fairseq-preprocess, with the measurements behind them."""
    tgt_words = types_with_count(tgt_train, min_count)
    src_words = min(types_with_count(src_train, min_count), 2 * tgt_words)
    candidates = []
    for k in sorted({1, 2, 3, 5, min_count}):
        s, t = types_with_count(src_train, k), types_with_count(tgt_train, k)
        candidates.append(
            {
                "min_count": k,
                "src_words": s,
                "tgt_words": t,
                "valid_oov_src": round(oov_rate(src_valid, top_words(src_train, s)), 5),
                "valid_oov_tgt": round(oov_rate(tgt_valid, top_words(tgt_train, t)), 5),
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
