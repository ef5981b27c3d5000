"""Data preparation: Multi30k (small scale), WMT'14 (paper scale), user test sets.

Command line: ``python -m sutskever_plugin.data.prepare --help``.

Python API (nothing here imports fairseq; binarization runs fairseq-preprocess)::

    prepare_multi30k(out_dir, raw_dir=None, scale="small", bpe=None, ...) -> summary dict
    prepare_wmt14_paper(out_dir, workers=8, dry_run=False, ...)
    prepare_eval_set(src_path, ref_path, data_dir, out_dir, subset="test") -> EvalSet
    prepare_newstest2014(data_dir, out_dir, sgml_dir=None) -> EvalSet
    postprocess_hypotheses(lines, data_dir) -> Moses-tokenized text (the paper's BLEU input)
    tokenize(lines, lang) / detokenize(lines, lang)       (sacremoses, project settings)
    parse_sgml(path) -> [Segment(docid, segid, text, line)]
    load_summary(data_dir) -> dict (summary.json)
"""
from .evalset import EvalSet, postprocess_hypotheses, prepare_eval_set
from .moses import detokenize, tokenize
from .multi30k import prepare_multi30k
from .pipeline import load_summary
from .sgml import Segment, SgmlError, parse_sgml, parse_sgml_pair
from .textio import DataPrepError
from .wmt14 import prepare_newstest2014, prepare_wmt14_paper

__all__ = [
    "DataPrepError",
    "EvalSet",
    "Segment",
    "SgmlError",
    "detokenize",
    "load_summary",
    "parse_sgml",
    "parse_sgml_pair",
    "postprocess_hypotheses",
    "prepare_eval_set",
    "prepare_multi30k",
    "prepare_newstest2014",
    "prepare_wmt14_paper",
    "tokenize",
]
