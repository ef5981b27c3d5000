"""log p(hypothesis </s> | source) of (source, hypothesis) pairs under a fairseq model or
ensemble, exactly as ``fairseq-generate --score-reference`` gives it: the pairs are
binarized into a temporary split that the task itself loads (a ``translation_reversed``
model sees its source reversed as in training), batched by the task (over-long pairs
raise instead of being dropped) and scored by ``SequenceScorer``. Words missing from a
dictionary become ``<unk>`` (the paper: "every out-of-vocabulary word was replaced with a
special UNK token") and are counted, not hidden.
"""
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

SPLIT = "rescore"
MAX_TOKENS = 16000  # per batch


@dataclass
class UnkCounts:
    """Tokens mapped to <unk> by a dictionary (counted once per distinct sentence)."""

    tokens: int = 0
    unk_types: Counter = field(default_factory=Counter)

    @property
    def unk_tokens(self) -> int:
        return sum(self.unk_types.values())

    def add(self, line: str, unknown: List[str]):
        self.tokens += len(line.split())
        self.unk_types.update(unknown)

    def as_dict(self) -> Dict:
        rate = self.unk_tokens / self.tokens if self.tokens else 0.0
        return {"tokens": self.tokens, "unk_tokens": self.unk_tokens,
                "unk_rate": round(rate, 5), "unk_types": len(self.unk_types),
                "most_frequent_unk": self.unk_types.most_common(10)}


def encode(dictionary, line: str) -> Tuple[torch.Tensor, List[str]]:
    """``line``'s ids (+ EOS) in ``dictionary``, and its words that map to <unk>."""
    ids = dictionary.encode_line(line, add_if_not_exist=False, append_eos=True).long()
    return ids, [w for w, i in zip(line.split(), ids.tolist()) if i == dictionary.unk()]


class Progress:
    """A line on stderr at most every ``every_s`` seconds while a long list is scored;
    ``label`` names the models, for scorings that run side by side."""

    def __init__(self, total: int, every_s: float = 60.0, label: str = ""):
        self.total, self.done, self.every_s = total, 0, every_s
        self.prefix = f"[rescore {label}]" if label else "[rescore]"
        self.t0 = self.last = time.monotonic()

    def advance(self, n: int):
        self.done += n
        now = time.monotonic()
        if now - self.last < self.every_s or self.done >= self.total:
            return
        self.last = now
        rate = self.done / (now - self.t0)
        sys.stderr.write(f"{self.prefix} {self.done}/{self.total} hypotheses scored "
                         f"({self.done / self.total:.0%}, {now - self.t0:.0f} s, about "
                         f"{(self.total - self.done) / rate:.0f} s left)\n")
        sys.stderr.flush()


def load_models(paths: Sequence[str], data_bin: Optional[str] = None):
    """(models in eval mode, task) of checkpoints of this plugin, under the task they were
    trained with (fairseq's loading, with the plugin's checkpoint checks) and the
    dictionaries of ``data_bin`` (default: the data directory stored in the checkpoint)."""
    from fairseq import checkpoint_utils

    import sutskever_plugin  # noqa: F401  (registers its models and tasks, as --user-dir)
    models, _cfg, task = checkpoint_utils.load_model_ensemble_and_task(
        list(paths), arg_overrides={"data": data_bin} if data_bin else {})
    return [m.eval() for m in models], task


class LstmScorer:
    def __init__(self, paths: Sequence[str], data_bin: Optional[str] = None,
                 use_cuda: Optional[bool] = None, src_encode=None, tgt_encode=None):
        """``src_encode``/``tgt_encode``: optional ``lines -> lines`` maps (SentencePiece)."""
        self.paths = list(paths)
        self.models, self.task = load_models(self.paths, data_bin)
        self.use_cuda = torch.cuda.is_available() if use_cuda is None else use_cuda
        if self.use_cuda:
            for m in self.models:
                m.cuda()
        self.src_encode, self.tgt_encode = src_encode, tgt_encode
        self.reverses_source = bool(getattr(self.task, "reverses_source", False))
        self.src_dict, self.tgt_dict = self.task.source_dictionary, self.task.target_dictionary
        self.src_lang = getattr(self.task.cfg, "source_lang", None) or "src"
        self.tgt_lang = getattr(self.task.cfg, "target_lang", None) or "tgt"
        self.reset_counts()

    def reset_counts(self):
        self.src_unk, self.tgt_unk = UnkCounts(), UnkCounts()

    def _encode(self, lines: Sequence[str], dictionary, counts: UnkCounts) -> List[torch.Tensor]:
        out = []
        for line in lines:
            ids, unknown = encode(dictionary, line)
            counts.add(line, unknown)
            out.append(ids)
        return out

    def _write_split(self, tmpdir: str, lang: str, dictionary, items: Sequence[torch.Tensor]):
        from fairseq.data import indexed_dataset

        prefix = os.path.join(tmpdir, f"{SPLIT}.{self.src_lang}-{self.tgt_lang}.{lang}")
        builder = indexed_dataset.make_builder(prefix + ".bin", impl="mmap",
                                               vocab_size=len(dictionary))
        for t in items:
            builder.add_item(t.int())
        builder.finalize(prefix + ".idx")

    def _load_split(self, tmpdir: str):
        task = self.task
        old = task.cfg.data
        try:
            task.cfg.data = tmpdir
            task.load_dataset(SPLIT, combine=False, epoch=1)
        finally:
            task.cfg.data = old
        return task.dataset(SPLIT)

    @torch.no_grad()
    def score(self, sources: Sequence[str], pairs: Sequence[Tuple[int, str]]):
        """(log-probability of each ``(source index, hypothesis)``, float64 array; the
        per-token scores, a list of 1-d arrays)."""
        from fairseq import utils
        from fairseq.sequence_scorer import SequenceScorer

        if self.src_encode is not None:
            sources = self.src_encode(list(sources))
        src_ids = self._encode(sources, self.src_dict, self.src_unk)
        # distinct hypotheses are encoded (and counted) once
        uniq = {h: i for i, h in enumerate(dict.fromkeys(h for _, h in pairs))}
        hyp_texts = list(uniq)
        if self.tgt_encode is not None:
            hyp_texts = self.tgt_encode(hyp_texts)
        hyp_ids = self._encode(hyp_texts, self.tgt_dict, self.tgt_unk)
        with tempfile.TemporaryDirectory(prefix="rescore-") as tmp:
            self._write_split(tmp, self.src_lang, self.src_dict, [src_ids[s] for s, _ in pairs])
            self._write_split(tmp, self.tgt_lang, self.tgt_dict, [hyp_ids[uniq[h]] for _, h in pairs])
            dataset = self._load_split(tmp)
            max_positions = utils.resolve_max_positions(
                self.task.max_positions(), *[m.max_positions() for m in self.models])
            itr = self.task.get_batch_iterator(
                dataset=dataset, max_tokens=MAX_TOKENS, max_sentences=None,
                max_positions=max_positions, ignore_invalid_inputs=False,
                required_batch_size_multiple=1, seed=1, num_workers=0,
            ).next_epoch_itr(shuffle=False)
            scorer = SequenceScorer(self.tgt_dict)
            scores = np.full(len(pairs), np.nan)
            positional: List = [None] * len(pairs)
            progress = Progress(len(pairs), label="+".join(Path(p).stem for p in self.paths))
            for sample in itr:
                if self.use_cuda:
                    sample = utils.move_to_cuda(sample)
                hypos = scorer.generate(self.models, sample)
                for i, sid in enumerate(sample["id"].tolist()):
                    pos = hypos[i][0]["positional_scores"].double().cpu()
                    scores[sid] = float(pos.sum())
                    positional[sid] = pos.numpy()
                progress.advance(len(sample["id"]))
            self.task.datasets.pop(SPLIT, None)
        missing = np.isnan(scores)
        if missing.any():  # would mean fairseq dropped pairs: never report a partial list
            raise RuntimeError(f"{int(missing.sum())} of {len(pairs)} pairs were not scored")
        return scores, positional
