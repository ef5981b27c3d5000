"""Make a killed fairseq-train resume safely and continue exactly where it stopped: on
CPU a resumed run retraces the uninterrupted one bit for bit. Three upstream gaps (the
0.12.2 release and ``ve-fairseq==0.12.3``, a build of main, compared source to source; no
upstream issues or commits we can name):

1. **Batch composition.** ``fairseq/tasks/fairseq_task.py``,
   ``FairseqTask.get_batch_iterator``: main builds the batches under ``numpy_seed(seed +
   epoch)`` (line 290 of 0.12.3; 0.12.2 used ``numpy_seed(seed)``, line 285) and caches
   the iterator, so an uninterrupted run keeps its first epoch's batches while a run
   resumed in epoch k >= 2 builds other ones (measured: another model). A cached
   iterator starting at epoch k > 1 is now built as the first epoch builds it; uncached
   ones (sharded data, ``rebuild_batches``) and epoch 1 are untouched. Applies to 0.12.3
   / main; on 0.12.2 it builds the same batches.
2. **Non-atomic copies.** ``fairseq/checkpoint_utils.py``, ``save_checkpoint`` copies the
   first checkpoint to ``checkpoint_best.pt`` / ``checkpoint_last.pt`` with
   ``PathManager.copy`` (line 125 of 0.12.2, 139 of 0.12.3): a kill during the copy
   leaves a truncated ``checkpoint_last.pt``. Local copies now go to a temporary file
   renamed over the destination. Both versions.
3. **One update too many.** ``fairseq_cli/train.py`` tests ``num_updates >= max_update``
   only after an update (lines 316/374 of 0.12.2, 331/389 of 0.12.3): a rerun on a
   finished save directory trains once more and overwrites its checkpoints. Finished
   training now exits at once (status 0) with a log line. Both versions.
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
