"""BLEU summaries for Table 2 rows, scored exactly as Table 1's rows.

Each output is reported as the paper does (cased BLEU on Moses-tokenized text, as
multi-bleu.perl) and as detokenized sacreBLEU with its signature: our outputs are
detokenized with the data pipeline's Moses detokenizer and compared with the raw
references that the data preparation keeps in ``<data>/raw/`` (as
:mod:`sutskever_plugin.scoring.score` does for Table 1). Without raw references (e.g.
an external paper-scale test set given only tokenized) the tokenized references are
detokenized the same way, and the JSON says so.
"""
import os
from typing import Dict, Optional, Sequence

from ..data.moses import detokenize
from ..scoring.bleu import bleu_summary as scores


def find_raw_reference(data_dir: str, split: str, lang: str) -> Optional[str]:
    """``<data>/raw/<split>.<lang>`` if the data preparation left one."""
    path = os.path.join(data_dir, "raw", f"{split}.{lang}")
    return path if os.path.exists(path) else None


def bleu_summary(hyps: Sequence[str], refs: Sequence[str], lang: str,
                 raw_refs: Optional[Sequence[str]] = None) -> Dict:
    """Keys as Table 1's score JSON: bleu_tokenized, sacrebleu_detok, sacrebleu_signature."""
    detok_refs = list(raw_refs) if raw_refs is not None else detokenize(refs, lang)
    summary = scores(hyps, refs, detokenize(hyps, lang), detok_refs)
    summary["detok_reference"] = "raw" if raw_refs is not None else "detokenized tokenized refs"
    return summary
