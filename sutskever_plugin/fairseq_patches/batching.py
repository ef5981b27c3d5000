"""Keep every sentence in every batch list, as the fairseq 0.12.2 release does.

Upstream main's ``fairseq/data/data_utils.py``, ``batch_by_size``, ends with ``if
bsz_mult > 1 and len(b[-1]) % bsz_mult != 0: b = b[:-1]`` (line 357 of
``ve-fairseq==0.12.3``; no upstream issue or commit we can name): ``fairseq-generate
--batch-size 32`` on 100 sentences silently translates 96. The dropped batch is the tail
of the ordered indices, so it is put back as one last, smaller batch. The
``fixed_shapes`` branch (TPU) is left alone.

Applies to: ve-fairseq 0.12.3 / upstream main; a no-op on fairseq 0.12.2.
"""
import numpy as np

from fairseq.data import data_utils

_original = data_utils.batch_by_size


def batch_by_size(indices, num_tokens_fn, num_tokens_vec=None, max_tokens=None,
                  max_sentences=None, required_batch_size_multiple=1, fixed_shapes=None):
    batches = _original(
        indices, num_tokens_fn, num_tokens_vec=num_tokens_vec, max_tokens=max_tokens,
        max_sentences=max_sentences, required_batch_size_multiple=required_batch_size_multiple,
        fixed_shapes=fixed_shapes,
    )
    if fixed_shapes is not None:
        return batches
    covered = sum(len(b) for b in batches)
    if covered < len(indices):
        indices = np.asarray(indices, dtype=np.int64)
        batches = list(batches) + [indices[covered:]]
    return batches


if getattr(data_utils.batch_by_size, "__module__", None) != __name__:
    data_utils.batch_by_size = batch_by_size
