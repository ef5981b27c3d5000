"""Make a killed fairseq-train resume safely and continue exactly where it stopped.

fairseq restores the model, the optimizer, our lr scheduler, the position in the epoch
and the per-update seed from ``checkpoint_last.pt``, so on CPU a resumed run should
retrace the uninterrupted run bit for bit.  Three things in upstream fairseq main (and
so ``ve-fairseq==0.12.3``, our build on Python >= 3.11) break that promise:

1. **Batch composition.**  ``FairseqTask.get_batch_iterator`` orders the sentences by
   length with ties broken by ``numpy_seed(seed + epoch)`` and caches the iterator, so
   an uninterrupted run keeps the batches built for its first epoch (seed + 1) in every
   epoch, while a run resumed in epoch k >= 2 builds them with seed + k: the same
   number of batches of the same lengths, but other sentences in them, and so another
   model (measured on the tiny recipe resumed at update 30 of 50: every parameter and the
   final validation loss differ).
   fairseq 0.12.2 used ``numpy_seed(seed)`` and had no such problem.  We build a cached
   iterator that starts at epoch k > 1 the way the first epoch of a fresh run builds
   it; uncached iterators (sharded data, ``rebuild_batches``) and every iterator that
   starts at epoch 1 (fresh runs, validation, generation) are left untouched.

2. **Non-atomic copies.**  ``checkpoint_utils.save_checkpoint`` writes the first
   checkpoint atomically (``.tmp`` + rename) but *copies* it to ``checkpoint_best.pt``
   and ``checkpoint_last.pt`` with ``PathManager.copy`` (``shutil.copyfile``); a kill
   during that copy (seconds for a paper-scale model) leaves a truncated
   ``checkpoint_last.pt`` that the rerun fails to load.  Local copies now go to a
   temporary file renamed over the destination.

3. **One update too many.**  Rerunning fairseq-train on a save directory whose
   ``checkpoint_last.pt`` already reached ``--max-update`` trains one more update (the
   stop test comes after the update), then overwrites ``checkpoint_last.pt`` and maybe
   ``checkpoint_best.pt``: a pipeline killed after training but before it took its model
   would change that model on the rerun.  Training that is already finished now exits
   at once (status 0) with a log line saying so.

``--user-dir sutskever_plugin`` (or ``import sutskever_plugin``) installs all three.

Upstream, and the fairseq versions each part applies to (the 0.12.2 release and
``ve-fairseq==0.12.3``, a build of upstream main, compared source to source; we cannot
name upstream issues or commits for them with confidence):

1. ``fairseq/tasks/fairseq_task.py``, ``FairseqTask.get_batch_iterator``: 0.12.2 orders
   the indices under ``data_utils.numpy_seed(seed)`` (line 285); main builds the batches
   in a nested ``make_batches(dataset, epoch)`` under ``numpy_seed(seed + epoch)`` (line
   290 of 0.12.3), the same change that added the ``rebuild_batches`` and
   ``persistent_workers`` options.  Applies to ve-fairseq 0.12.3 / main; on 0.12.2 the
   batches do not depend on the epoch and the patch builds the same ones.
2. ``fairseq/checkpoint_utils.py``, ``save_checkpoint``: the first checkpoint goes
   through ``torch_persistent_save`` (``.tmp`` + rename), the others through
   ``PathManager.copy(..., overwrite=True)`` (line 125 of 0.12.2, line 139 of 0.12.3).
   Applies to both versions.
3. ``fairseq_cli/train.py``: ``train`` runs ``trainer.train_step`` and only then
   ``validate_and_save`` tests ``num_updates >= max_update`` (lines 316/374 of 0.12.2,
   331/389 of 0.12.3), and ``main`` enters ``train`` without testing it first.  Applies
   to both versions.
"""
import inspect
import logging
import os
import shutil

from fairseq import checkpoint_utils
from fairseq.file_io import PathManager
from fairseq.tasks.fairseq_task import FairseqTask

# ---------------------------------------------------------------- 1. batch composition

_original_get_batch_iterator = FairseqTask.get_batch_iterator
_SIGNATURE = inspect.signature(_original_get_batch_iterator)


def get_batch_iterator(self, dataset, *args, **kwargs):
    bound = _SIGNATURE.bind(self, dataset, *args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    epoch = a.get("epoch", 1) or 1
    cached_across_epochs = (
        not a.get("disable_iterator_cache", False)
        and not a.get("update_epoch_batch_itr", False)
        and not getattr(getattr(self, "cfg", None), "rebuild_batches", False)
        and self.can_reuse_epoch_itr(dataset)
    )
    if epoch <= 1 or not cached_across_epochs or dataset in getattr(self, "dataset_to_epoch_iter", {}):
        return _original_get_batch_iterator(*bound.args, **bound.kwargs)
    # the batches an uninterrupted run uses in every epoch, positioned at `epoch`
    a["epoch"] = 1
    itr = _original_get_batch_iterator(*bound.args, **bound.kwargs)
    itr.epoch = epoch
    dataset.set_epoch(epoch)
    return itr


# ---------------------------------------------------------------- 2. atomic copies

_original_copy = PathManager.copy


def _is_local(path) -> bool:
    return "://" not in str(path)


def copy(src_path: str, dst_path: str, overwrite: bool = False) -> bool:
    if not (_is_local(src_path) and _is_local(dst_path)):
        return _original_copy(src_path, dst_path, overwrite)
    if not overwrite and os.path.exists(dst_path):
        return False
    tmp = f"{dst_path}.tmp-{os.getpid()}"
    try:
        shutil.copyfile(src_path, tmp)
        os.replace(tmp, dst_path)  # atomic: dst is the old file or the whole new one
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return True


# ---------------------------------------------------------------- 3. finished training

logger = logging.getLogger(__name__)
_original_load_checkpoint = checkpoint_utils.load_checkpoint


def load_checkpoint(cfg, trainer, **passthrough_args):
    extra_state, epoch_itr = _original_load_checkpoint(cfg, trainer, **passthrough_args)
    max_update = trainer.cfg.optimization.max_update or 0
    if max_update > 0 and trainer.get_num_updates() >= max_update:
        logger.info(
            f"training already finished: the checkpoint is at update {trainer.get_num_updates()} "
            f">= --max-update {max_update}; nothing to do (raise --max-update to train on)"
        )
        raise SystemExit(0)
    return extra_state, epoch_itr


if getattr(FairseqTask.get_batch_iterator, "__module__", None) != __name__:
    FairseqTask.get_batch_iterator = get_batch_iterator
if getattr(PathManager.copy, "__module__", None) != __name__:
    PathManager.copy = staticmethod(copy)
if getattr(checkpoint_utils.load_checkpoint, "__module__", None) != __name__:
    checkpoint_utils.load_checkpoint = load_checkpoint
