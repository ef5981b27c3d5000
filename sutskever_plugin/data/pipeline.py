"""The preparation pipeline shared by every corpus (Multi30k, WMT'14, a user's test set).

Steps, each skipped on a rerun when its inputs and settings are unchanged
(``sutskever_plugin.steps.Step``, records in ``DATA/.steps/``): ``tokenize`` (Moses; raw
copies of dev/test for detokenized sacreBLEU), ``vocab`` (word level) or ``spm``
(SentencePiece), ``binarize`` (fairseq-preprocess), then ``summary.json`` and one line::

    DATA/raw/{valid,test}.{en,fr}       raw text, whitespace normalised
    DATA/tok/{train,valid,test}.{en,fr} Moses-tokenized text (the BLEU references)
    DATA/spm/spm.{en,fr}.model, spm/{train,valid,test}.{en,fr}, spm/dict.{en,fr}.txt
    DATA/bin/dict.{en,fr}.txt, bin/{train,valid,test}.en-fr.{en,fr}.{bin,idx}
    DATA/summary.json
"""
import contextlib
import itertools
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple

from . import moses, spm, vocab
from ..steps import Step
from .binarize import format_command, preprocess_args, run_preprocess
from .sgml import xml_unescape
from .textio import (
    DataPrepError,
    atomic_open,
    check_parallel,
    normalize_space,
    read_lines,
    write_text,
)

logger = logging.getLogger(__name__)

SUMMARY = "summary.json"
# Below this much input, tokenizing in one process beats starting a pool.
_PARALLEL_MIN_BYTES = 8 << 20
_OOV_MAX_BYTES = 200 << 20


@dataclass
class SplitSpec:
    """Where one split comes from.  Several files are concatenated in order."""

    name: str
    src_files: List[str]
    tgt_files: List[str]  # empty: source only (a test set without reference)
    limit: Optional[int] = None  # first N lines only (tiny scale)
    skip_empty: bool = False  # drop pairs with an empty side (training data only)
    keep_raw: bool = False  # keep raw/{name}.{lang} for detokenized BLEU
    # Moses-tokenized, escaped input (Schwenk's files): undo the escaping (&apos; ...) and
    # detokenize before our tokenizer.  Tokenizing tokenized text again is not a no-op
    # (Moses turns "man 's" into "man ' s"), and the test sets are tokenized from raw text.
    pretokenized: bool = False

    def config(self) -> dict:
        """The split's settings; its files enter a step's key by content (:meth:`inputs`)."""
        return {
            "src": [os.path.basename(p) for p in self.src_files],
            "tgt": [os.path.basename(p) for p in self.tgt_files],
            "limit": self.limit,
            "skip_empty": self.skip_empty,
            "keep_raw": self.keep_raw,
            "pretokenized": self.pretokenized,
        }

    def inputs(self) -> List[str]:
        # a missing file is left to the tokenizer, whose error names it
        return [p for p in self.src_files + self.tgt_files if os.path.exists(p)]


@dataclass
class CorpusSpec:
    dataset: str
    scale: str
    splits: List[SplitSpec]
    src: str = "en"
    tgt: str = "fr"
    min_count: Optional[int] = 2  # word-level: keep words seen >= min_count times ...
    nwordssrc: Optional[int] = None  # ... unless sizes are given (paper: 160k / 80k)
    nwordstgt: Optional[int] = None
    bpe: Optional[str] = None  # None or "sentencepiece"
    sp_vocab: Optional[int] = None
    workers: int = 2
    notes: Dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- tokenize


def _iter_pairs(split: SplitSpec) -> Iterator[Tuple[str, Optional[str]]]:
    """Lines of source and target files side by side; a length mismatch is an error."""
    for sf, tf in zip(split.src_files, split.tgt_files or [None] * len(split.src_files)):
        if tf is None:
            yield from ((s, None) for s in read_lines(sf))
            continue
        for s, t in itertools.zip_longest(read_lines(sf), read_lines(tf)):
            if s is None or t is None:
                check_parallel(sf, tf)  # raises, naming both files and counts
            yield s, t


def _tokenize_chunk(job):
    src, tgt, pretokenized, pairs = job
    out = []
    for s, t in pairs:
        if pretokenized:
            s = moses.detokenize([xml_unescape(s)], src)[0]
            t = moses.detokenize([xml_unescape(t)], tgt)[0] if t is not None else None
        s = normalize_space(s)
        t = normalize_space(t) if t is not None else None
        out.append(
            (s, t, moses.tokenize_line(s, src), moses.tokenize_line(t, tgt) if t is not None else None)
        )
    return out


def _tokenized_pairs(split: SplitSpec, src: str, tgt: str, workers: int):
    pairs = itertools.islice(_iter_pairs(split), split.limit)
    size = sum(os.path.getsize(p) for p in split.src_files + split.tgt_files)
    chunks = (list(itertools.islice(pairs, 2000)) for _ in itertools.count())  # 2000 pairs each
    jobs = ((src, tgt, split.pretokenized, c) for c in itertools.takewhile(bool, chunks))
    if workers <= 1 or split.limit is not None or size < _PARALLEL_MIN_BYTES:
        for job in jobs:
            yield from _tokenize_chunk(job)
    else:
        import multiprocessing

        with multiprocessing.Pool(workers) as pool:
            for out in pool.imap(_tokenize_chunk, jobs):
                yield from out


def tokenize_split(split: SplitSpec, data_dir: str, src: str, tgt: str, workers: int) -> dict:
    """Write tok/ (and raw/) files of one split; returns its line statistics."""
    if split.limit is not None:  # the whole files are still checked (counts, UTF-8)
        for sf, tf in zip(split.src_files, split.tgt_files):
            check_parallel(sf, tf)
    langs = [src, tgt] if split.tgt_files else [src]
    stats = {"lines_read": 0, "lines": 0, "skipped_empty_pairs": 0, "empty_lines_kept": 0}
    with contextlib.ExitStack() as stack:
        subdirs = ["tok", "raw"] if split.keep_raw else ["tok"]
        out = {(d, l): stack.enter_context(atomic_open(os.path.join(data_dir, d, f"{split.name}.{l}")))
               for d in subdirs for l in langs}
        for rs, rt, ts, tt in _tokenized_pairs(split, src, tgt, workers):
            stats["lines_read"] += 1
            empty = not ts or (split.tgt_files and not tt)
            if empty and split.skip_empty:
                stats["skipped_empty_pairs"] += 1
                continue
            if empty:
                stats["empty_lines_kept"] += 1
            stats["lines"] += 1
            text = {("tok", src): ts, ("raw", src): rs, ("tok", tgt): tt, ("raw", tgt): rt}
            for key, f in out.items():
                f.write(text[key] + "\n")
    if stats["lines"] == 0:
        raise DataPrepError(f"split {split.name!r} is empty after reading {split.src_files}")
    if stats["empty_lines_kept"]:
        logger.warning(
            f"{split.name}: {stats['empty_lines_kept']} line(s) with an empty side kept "
            f"(dev/test lines are never dropped, to stay aligned with the references)"
        )
    return stats


# --------------------------------------------------------------------------- steps


def binarize_args(spec: CorpusSpec, data_dir: str, sizes: Optional[dict] = None) -> dict:
    """Keyword arguments of :func:`preprocess_args` for a corpus (also used by dry runs)."""
    sub = "spm" if spec.bpe else "tok"
    kwargs = {f"{s.name}pref": os.path.join(data_dir, sub, s.name) for s in spec.splits}
    kwargs.update(src=spec.src, tgt=spec.tgt, workers=spec.workers)
    if spec.bpe:
        kwargs["srcdict"] = os.path.join(data_dir, "spm", f"dict.{spec.src}.txt")
        kwargs["tgtdict"] = os.path.join(data_dir, "spm", f"dict.{spec.tgt}.txt")
    else:
        sizes = sizes or {}
        kwargs["nwordssrc"] = sizes.get("nwordssrc", spec.nwordssrc)
        kwargs["nwordstgt"] = sizes.get("nwordstgt", spec.nwordstgt)
    return kwargs


def _choose_vocab(spec: CorpusSpec, data_dir: str) -> dict:
    if spec.nwordssrc and spec.nwordstgt:
        return {
            "rule": "fixed sizes (the paper's: 160,000 source / 80,000 target words, "
            "specials included); other words -> <unk>",
            "nwordssrc": spec.nwordssrc,
            "nwordstgt": spec.nwordstgt,
        }
    tok = os.path.join(data_dir, "tok")
    c = {
        (split, lang): vocab.count_words(os.path.join(tok, f"{split}.{lang}"))
        for split in ("train", "valid")
        for lang in (spec.src, spec.tgt)
    }
    return vocab.choose_vocab_sizes(
        c["train", spec.src], c["train", spec.tgt], c["valid", spec.src], c["valid", spec.tgt], spec.min_count
    )


def _train_spm(spec: CorpusSpec, data_dir: str) -> dict:
    out = {"type": "sentencepiece", "vocab_size": spec.sp_vocab, **spm.SP_DEFAULTS,
           "models": {}, "dict_size": {}}
    for lang in (spec.src, spec.tgt):
        prefix = os.path.join(data_dir, "spm", f"spm.{lang}")
        os.makedirs(os.path.dirname(prefix), exist_ok=True)
        model = spm.train_model(
            os.path.join(data_dir, "tok", f"train.{lang}"), prefix, spec.sp_vocab,
            threads=spec.workers,
        )
        counts = None
        for s in spec.splits:
            tok = os.path.join(data_dir, "tok", f"{s.name}.{lang}")
            c = spm.encode_file(model, tok, os.path.join(data_dir, "spm", f"{s.name}.{lang}"))
            if s.name == "train":
                counts = c
            if s.name == "valid":  # how much longer the sequences get
                words = sum(vocab.count_words(tok).values())
                out.setdefault("valid_pieces_per_word", {})[lang] = round(sum(c.values()) / max(words, 1), 3)
        n = spm.write_fairseq_dict(model, os.path.join(data_dir, "spm", f"dict.{lang}.txt"), counts)
        out["models"][lang] = os.path.relpath(model, data_dir)
        out["dict_size"][lang] = n + vocab.FAIRSEQ_SPECIALS
    return out


def _measure_oov(spec: CorpusSpec, data_dir: str) -> dict:
    """OOV token rates of the finished dictionaries (after BPE, if any)."""
    sub = "spm" if spec.bpe else "tok"
    res = {}
    for lang in (spec.src, spec.tgt):
        words = vocab.read_fairseq_dict(os.path.join(data_dir, "bin", f"dict.{lang}.txt"))
        res[f"dict_size_{lang}"] = len(words) + vocab.FAIRSEQ_SPECIALS
        for split in ("train", "valid"):
            path = os.path.join(data_dir, sub, f"{split}.{lang}")
            # (counting a 12M-sentence training text in Python would take long)
            if os.path.getsize(path) < _OOV_MAX_BYTES:
                c = vocab.count_words(path)
                res[f"{split}_oov_{lang}"] = round(vocab.oov_rate(c, words), 5)
    return res


def prepare_corpus(spec: CorpusSpec, data_dir: str, quiet: bool = False) -> dict:
    """Run (or resume) the whole pipeline; returns the summary (also in summary.json)."""
    t0 = time.time()
    data_dir = os.path.abspath(data_dir)
    os.makedirs(data_dir, exist_ok=True)
    base = {"dataset": spec.dataset, "scale": spec.scale, "src": spec.src, "tgt": spec.tgt,
            "tokenizer": moses.TOKENIZER_SETTINGS}
    ran = []

    def step(name, options, inputs, make):
        info, done_now = Step(os.path.join(data_dir, ".steps", f"{name}.json"), options, inputs).run(make)
        if done_now:
            ran.append(name)
        return info

    def tokenize():
        stats = {}
        for s in spec.splits:
            logger.info(f"tokenizing {spec.dataset} {s.name}")
            stats[s.name] = tokenize_split(s, data_dir, spec.src, spec.tgt, spec.workers)
        return stats

    # 1. tokenize
    split_stats = step("tokenize", dict(base, splits={s.name: s.config() for s in spec.splits}),
                       [p for s in spec.splits for p in s.inputs()], tokenize)
    tok = [os.path.join(data_dir, "tok")]

    # 2. vocabulary choice / SentencePiece
    if spec.bpe:
        bpe_info = step("spm", {"vocab_size": spec.sp_vocab, "model_type": spm.SP_DEFAULTS["model_type"],
                                "defaults": spm.SP_DEFAULTS}, tok, lambda: _train_spm(spec, data_dir))
        vocab_info = None
    else:
        bpe_info = None
        vocab_info = step("vocab", {"min_count": spec.min_count, "nwordssrc": spec.nwordssrc,
                                    "nwordstgt": spec.nwordstgt}, tok, lambda: _choose_vocab(spec, data_dir))

    # 3. binarize
    kwargs = binarize_args(spec, data_dir, vocab_info)

    def binarize():
        run_preprocess(os.path.join(data_dir, "bin"), quiet=quiet, **kwargs)
        return _measure_oov(spec, data_dir)

    oov = step("binarize", {"args": preprocess_args("bin", **kwargs)},
               [os.path.join(data_dir, "spm" if spec.bpe else "tok")], binarize)

    # 4. summary (last)
    summary = dict(
        base,
        tokenizer=moses.tokenizer_settings(),
        splits=split_stats,
        vocab=vocab_info,
        bpe=bpe_info,
        dictionaries=oov,
        fairseq_preprocess=format_command(preprocess_args(os.path.join(data_dir, "bin"), **kwargs)),
        layout={"raw": "raw", "tok": "tok", "spm": "spm" if spec.bpe else None, "bin": "bin"},
        notes=spec.notes,
        steps_run=ran,
        seconds=round(time.time() - t0, 1),
    )
    path = os.path.join(data_dir, SUMMARY)
    if ran or not os.path.exists(path):
        write_text(path, json.dumps(summary, indent=1, ensure_ascii=False))
    else:
        summary = load_summary(data_dir)
        summary["steps_run"] = []
        summary["seconds"] = round(time.time() - t0, 1)
    print(summary_line(summary, data_dir), flush=True)
    return summary


def load_summary(data_dir: str) -> dict:
    path = os.path.join(data_dir, SUMMARY)
    if not os.path.exists(path):
        raise DataPrepError(
            f"{path} not found: {data_dir} is not a prepared data directory "
            f"(run python -m sutskever_plugin.data.prepare first)"
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def summary_line(summary: dict, data_dir: str) -> str:
    s, t = summary["src"], summary["tgt"]
    sp = summary["splits"]
    parts = [f"| prepare {summary['dataset']} ({summary['scale']})"]
    if not summary.get("steps_run"):
        parts[0] += " already done, skipped"
    tr = sp.get("train")
    if tr:
        parts.append(f"train {tr['lines']} pairs ({tr['skipped_empty_pairs']} skipped: empty side)")
    parts.append(", ".join(f"{k} {sp[k]['lines']}" for k in ("valid", "test") if k in sp))
    d = summary["dictionaries"]
    bpe = f"sentencepiece {summary['bpe']['model_type']} " if summary.get("bpe") else ""
    parts.append(f"{bpe}dict {s} {d[f'dict_size_{s}']} / {t} {d[f'dict_size_{t}']}")
    if f"valid_oov_{s}" in d:
        parts.append(f"valid OOV {s} {100 * d[f'valid_oov_{s}']:.2f}% {t} {100 * d[f'valid_oov_{t}']:.2f}%")
    parts.append(f"{summary['seconds']}s -> {os.path.join(data_dir, 'bin')}")
    return " | ".join(parts)
