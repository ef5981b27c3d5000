"""The one BLEU scorer behind every table and figure of this project.

The paper reports "cased BLEU on tokenized text" (multi-bleu.perl).  sacreBLEU with
``tokenize="none"`` and case kept computes exactly that on text that is already Moses
tokenized.  Beside it we report detokenized sacreBLEU (13a) with its signature, the
number other papers can compare with.
"""
import os
from typing import Dict, Optional, Sequence

import sacrebleu
from sacrebleu.metrics import BLEU
from sacrebleu.metrics.bleu import BLEUScore

from ..data.moses import detokenize


def tokenized_metric() -> BLEU:
    """sacreBLEU configured as the paper's metric: cased, on already tokenized text."""
    # force: the text is tokenized on purpose (the paper's metric); no warning about it
    return BLEU(tokenize="none", lowercase=False, force=True)


def _corpus_score(metric: BLEU, hyps: Sequence[str], refs: Sequence[str]) -> BLEUScore:
    if len(hyps) != len(refs):
        raise ValueError(
            f"BLEU needs one hypothesis per reference: got {len(hyps)} hypotheses "
            f"and {len(refs)} references"
        )
    if len(hyps) == 0:
        raise ValueError("BLEU of an empty test set is undefined (0 sentences)")
    return metric.corpus_score(list(hyps), [list(refs)])


def tokenized_bleu(hyps: Sequence[str], refs: Sequence[str]) -> BLEUScore:
    """Cased BLEU on Moses-tokenized text, as multi-bleu.perl (the paper's metric)."""
    return _corpus_score(tokenized_metric(), hyps, refs)


def find_raw_reference(data_dir: str, split: str, lang: str) -> Optional[str]:
    """``<data>/raw/<split>.<lang>``, the untokenized references, if there."""
    path = os.path.join(data_dir, "raw", f"{split}.{lang}")
    return path if os.path.exists(path) else None


def bleu_summary(hyps: Sequence[str], refs: Sequence[str], lang: str,
                 raw_refs: Optional[Sequence[str]] = None,
                 detok_hyps: Optional[Sequence[str]] = None) -> Dict:
    """Both numbers of a table row, as every score JSON holds them: the paper's tokenized
    BLEU of ``hyps`` against ``refs``, and detokenized sacreBLEU (13a) with its signature,
    against ``raw_refs`` (``<data>/raw/``) else ``refs`` detokenized (``detok_reference``)."""
    detok_hyps = detokenize(hyps, lang) if detok_hyps is None else detok_hyps
    detok_refs = list(raw_refs) if raw_refs is not None else detokenize(refs, lang)
    tok_metric, detok_metric = tokenized_metric(), BLEU()
    tok = _corpus_score(tok_metric, hyps, refs)
    detok = _corpus_score(detok_metric, detok_hyps, detok_refs)
    return {
        "bleu_tokenized": round(tok.score, 2), "bleu_tokenized_detail": str(tok),
        "bleu_tokenized_signature": str(tok_metric.get_signature()),
        "sacrebleu_detok": round(detok.score, 2),
        "sacrebleu_signature": str(detok_metric.get_signature()),
        "sentences": len(hyps),
        "detok_reference": "raw" if raw_refs is not None else "detokenized tokenized refs",
    }


def sentence_bleu_tok(hyp: str, ref: str) -> float:
    """Smoothed sentence-level BLEU on tokenized text (for oracle n-best selection)."""
    return sacrebleu.sentence_bleu(hyp, [ref], tokenize="none", lowercase=False).score


def metric_description(signatures) -> str:
    """The tables' line saying how BLEU was computed, with the first detokenized
    signature of the pandas Series ``signatures``."""
    sig = signatures.dropna()
    return ("- BLEU: cased, on Moses-tokenized text (multi-bleu.perl equivalent, sacreBLEU "
            "`tokenize=none`), as the paper; beside it detokenized sacreBLEU"
            + (f" (`{sig.iloc[0]}`)." if len(sig) else "."))
