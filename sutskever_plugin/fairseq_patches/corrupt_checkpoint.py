"""Name a truncated or corrupt checkpoint file, and say what to do, instead of a
``torch.load`` traceback that never names it.

Upstream: ``fairseq/checkpoint_utils.py``, ``load_checkpoint_to_cpu`` (line 306 of
``ve-fairseq==0.12.3``, the same in 0.12.2), through which every fairseq command reads
checkpoints, lets ``torch.load``'s error through (no upstream issue we can name). A file
that failed to load is examined (:func:`~sutskever_plugin.checkpoint_check.diagnose`);
other failures are re-raised unchanged.

Applies to: fairseq 0.12.2 and ve-fairseq 0.12.3.
"""
from fairseq import checkpoint_utils

from ..checkpoint_check import CorruptCheckpointError, diagnose, message

_original = checkpoint_utils.load_checkpoint_to_cpu


def load_checkpoint_to_cpu(path, *args, **kwargs):
    try:
        return _original(path, *args, **kwargs)
    except Exception as e:
        reason = diagnose(path, e)
        if reason is None:
            raise
        raise CorruptCheckpointError(message(path, reason)) from e


if getattr(checkpoint_utils.load_checkpoint_to_cpu, "__module__", None) != __name__:
    checkpoint_utils.load_checkpoint_to_cpu = load_checkpoint_to_cpu
