"""Reading what fairseq's CLIs print: hypotheses of fairseq-generate, loss of
fairseq-validate.  Errors name the file and line."""
import math
import re
from typing import List
from sutskever_plugin.errors import user_facing

_HYP = re.compile(r"^H-(\d+)\t(\S+)\t?(.*)$")


@user_facing
class FairseqOutputError(ValueError):
    pass


def read_hypotheses(path: str, num_sentences: int) -> List[str]:
    """The 1-best hypothesis of every sentence, in test-set order.

    fairseq-generate prints sentences in batch order; ``H-<id>`` lines give the id.  A
    missing id would silently shorten the test set, so it is an error.
    """
    best = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = _HYP.match(line.rstrip("\n"))
            if not m:
                continue
            i = int(m.group(1))
            if i >= num_sentences:
                raise FairseqOutputError(
                    f"{path}:{lineno}: hypothesis id {i} but the test set has {num_sentences} sentences")
            best.setdefault(i, m.group(3))  # with --nbest, the first H line is the best
    missing = [i for i in range(num_sentences) if i not in best]
    if missing:
        raise FairseqOutputError(
            f"{path}: no hypothesis for {len(missing)} of {num_sentences} sentences "
            f"(first ids: {missing[:5]})")
    return [best[i] for i in range(num_sentences)]


_VALID = re.compile(r"\| loss ([0-9.]+) \| nll_loss ([0-9.]+) \| ppl ([0-9.]+)")


def read_validate_ppl(path: str) -> float:
    """Per-word test perplexity from fairseq-validate's log (nll_loss is in base 2)."""
    found = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = _VALID.search(line)
            if m:
                found = 2 ** float(m.group(2))
    if found is None or math.isnan(found):
        raise FairseqOutputError(f"{path}: no 'loss | nll_loss | ppl' line from fairseq-validate")
    return found
