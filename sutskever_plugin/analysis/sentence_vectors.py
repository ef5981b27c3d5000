"""Sentence vectors: the encoder's final (h, c) of every layer, for given phrases.

The phrases go through the task exactly as fairseq-generate's inputs do: words -> ids
with the model's source dictionary (+ EOS), then ``task.build_dataset_for_inference``
(which, for ``translation_reversed``, reverses the words with the function training
used) and the dataset's collater (padding), then ``model.encode``.
"""
import os
from dataclasses import dataclass
from typing import List, Sequence

import numpy as np
import torch


@dataclass
class EncodedPhrase:
    text: str            # the (tokenized) phrase
    ids: List[int]       # source ids as the model reads them, before any reversal
    unknown: List[str]   # words the source dictionary maps to <unk>


def load_model(checkpoint: str, data_bin: str):
    """(model, task) of a fairseq checkpoint of this plugin, on CPU, in eval mode, under
    the task it was trained with and the dictionaries of ``data_bin``."""
    from ..rescoring.lstm_scorer import load_models

    models, task = load_models([checkpoint], os.path.abspath(data_bin))
    return models[0].cpu(), task


def encode_phrase(task, text: str) -> EncodedPhrase:
    d = task.source_dictionary
    ids = d.encode_line(text, add_if_not_exist=False, append_eos=True).long().tolist()
    words = text.split()
    unknown = [w for w, i in zip(words, ids) if i == d.unk()]
    return EncodedPhrase(text, ids, unknown)


@torch.no_grad()
def sentence_vectors(model, task, phrases: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """n_phrases x (2 * layers * hidden): ``model.encode`` of each phrase (tokenized,
    space-separated), its source read as the task reads it (reversed for
    ``translation_reversed``)."""
    model.eval()
    encoded = [torch.LongTensor(encode_phrase(task, p).ids) for p in phrases]
    out = []
    for start in range(0, len(encoded), batch_size):
        chunk = encoded[start:start + batch_size]
        lengths = [t.numel() for t in chunk]
        dataset = task.build_dataset_for_inference(chunk, lengths)
        batch = dataset.collater([dataset[i] for i in range(len(chunk))])
        vec = model.encode(batch["net_input"]["src_tokens"], batch["net_input"]["src_lengths"])
        order = batch["id"].tolist()  # the collater sorts by length
        rows = torch.empty_like(vec)
        rows[order] = vec
        out.append(rows)
    return torch.cat(out).cpu().numpy().astype(np.float64)

