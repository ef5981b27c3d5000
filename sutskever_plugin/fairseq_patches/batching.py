"""Keep every sentence in every batch list, as the fairseq 0.12.2 release does.

Upstream fairseq main (and so ``ve-fairseq==0.12.3``, the build we use on Python >= 3.11)
changed ``fairseq.data.data_utils.batch_by_size`` to drop the last batch whenever its
size is not a multiple of ``--required-batch-size-multiple`` (default 8).  With
``fairseq-generate --batch-size 32`` on a 100-sentence test set that silently
translates 96 sentences: BLEU on a truncated test set, and n-best lists with missing
ids.  0.12.2 keeps the remainder.  We restore that: the dropped batch is always the
tail of the ordered indices, so it is put back as one last (smaller) batch.  On 0.12.2
the wrapper finds nothing missing and changes nothing.

Upstream: ``fairseq/data/data_utils.py``, ``batch_by_size``, ends on upstream main with
``if bsz_mult > 1 and len(b[-1]) % bsz_mult != 0: b = b[:-1]`` (line 357 of
``ve-fairseq==0.12.3``); the 0.12.2 release returns the batches of ``batch_by_size_vec``
/ ``batch_by_size_fn`` as they are.  We found no upstream issue or pull request for it
and cannot name the commit with confidence: it is a post-0.12.2 change of main, found by
diffing the 0.12.2 sdist against ve-fairseq 0.12.3.  The ``fixed_shapes`` branch (TPU
batching) is the same in both and left alone.

Applies to: ve-fairseq 0.12.3 / upstream main (Python >= 3.11 here).  A no-op on
fairseq 0.12.2 (Python 3.10).
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
