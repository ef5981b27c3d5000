"""A user's test set, "prepared exactly as the training data were prepared": the
tokenizer (and SentencePiece models) recorded in a data directory's ``summary.json``, and
its dictionaries (other words -> <unk>, as for the paper's test set).  ``out_dir`` is laid
out as a data directory (:mod:`.pipeline`) holding the one split.
"""
import json
import os
import shutil
import time
from typing import Iterable, List, Optional

from ..steps import Step
from . import spm, vocab
from .binarize import run_preprocess
from .pipeline import SplitSpec, load_summary, tokenize_split
from .textio import DataPrepError, write_text


def prepare_eval_set(
    src_path: str,
    ref_path: Optional[str],
    data_dir: str,
    out_dir: str,
    quiet: bool = True,
) -> dict:
    """Tokenize (+ SentencePiece-encode) and binarize a raw test set (plain text or .gz,
    UTF-8, a sentence a line) with ``data_dir``'s preparation and dictionaries into
    ``out_dir`` (``bin/`` for fairseq-generate); ``ref_path=None``: the source only.
    Returns the line count and OOV rates (also in ``out_dir/summary.json``)."""
    t0 = time.time()
    data_dir, out_dir = os.path.abspath(data_dir), os.path.abspath(out_dir)
    summary = load_summary(data_dir)
    src, tgt = summary["src"], summary["tgt"]
    if os.path.abspath(out_dir) == data_dir:
        raise DataPrepError("out_dir must differ from data_dir (it would overwrite its test split)")
    split = SplitSpec("test", [src_path], [ref_path] if ref_path else [], keep_raw=True)
    dicts = {l: os.path.join(data_dir, "bin", f"dict.{l}.txt") for l in (src, tgt)}
    models = spm.models_of(summary, data_dir) if summary.get("bpe") else {}
    # keyed on what it takes of the data dir: its preparation, dictionaries and models
    options = {"data_dir": data_dir, "split": split.config(), "src_path": os.path.abspath(src_path),
               "ref_path": ref_path and os.path.abspath(ref_path),
               "tokenizer": summary.get("tokenizer"), "bpe": summary.get("bpe")}
    langs = [src, tgt] if ref_path else [src]

    def make():
        stats = tokenize_split(split, out_dir, src, tgt, workers=1)
        text_dir = os.path.join(out_dir, "tok")
        if models:
            for lang in langs:
                spm.encode_file(models[lang], os.path.join(out_dir, "tok", f"test.{lang}"),
                                os.path.join(out_dir, "spm", f"test.{lang}"))
            text_dir = os.path.join(out_dir, "spm")
        bin_dir = os.path.join(out_dir, "bin")
        run_preprocess(
            bin_dir, quiet=quiet, src=src, tgt=tgt, testpref=os.path.join(text_dir, "test"),
            srcdict=dicts[src], tgtdict=dicts[tgt] if ref_path else None,
            only_source=not ref_path, workers=1,
        )
        if not ref_path:  # fairseq-generate still needs the target dictionary
            shutil.copyfile(dicts[tgt], os.path.join(bin_dir, f"dict.{tgt}.txt"))
        oov = {}
        for lang in langs:
            words = vocab.read_fairseq_dict(dicts[lang])
            c = vocab.count_words(os.path.join(text_dir, f"test.{lang}"))
            oov[f"oov_{lang}"] = round(vocab.oov_rate(c, words), 5)
        info = {"lines": stats["lines"], "empty_lines_kept": stats["empty_lines_kept"], **oov}
        write_text(os.path.join(out_dir, "summary.json"), json.dumps(
            {"kind": "eval_set", "subset": "test", "data_dir": data_dir, "src": src,
             "tgt": tgt, "source": os.path.abspath(src_path),
             "reference": ref_path and os.path.abspath(ref_path), "bpe": summary.get("bpe"),
             "tokenizer": summary.get("tokenizer"), **info,
             "seconds": round(time.time() - t0, 1)}, indent=1, ensure_ascii=False))
        return info

    inputs = split.inputs() + [p for p in [*dicts.values(), *models.values()] if os.path.exists(p)]
    info, ran = Step(os.path.join(out_dir, ".steps", "eval.json"), options, inputs).run(make)
    done = "" if ran else " already done, skipped;"
    oovs = " ".join(f"{l} {100 * info[f'oov_{l}']:.2f}%" for l in langs)
    print(f"| eval set test:{done} {info['lines']} lines | OOV {oovs} | "
          f"{round(time.time() - t0, 1)}s -> {os.path.join(out_dir, 'bin')}", flush=True)
    return info


def postprocess_hypotheses(lines: Iterable[str], data_dir: str) -> List[str]:
    """fairseq-generate hypotheses (``H-`` text, no ``--post-process``) -> Moses-tokenized
    text, the paper's BLEU input (SentencePiece pieces decoded, byte pieces included)."""
    summary = load_summary(data_dir)
    if summary.get("bpe"):
        return spm.decode_pieces(lines, spm.models_of(summary, data_dir)[summary["tgt"]])
    return [" ".join(line.split()) for line in lines]

