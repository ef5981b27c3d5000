"""Name a truncated or corrupt checkpoint file, and say what to do, instead of a
``torch.load`` traceback that never names it.

Upstream: ``fairseq/checkpoint_utils.py``, ``load_checkpoint_to_cpu(path,
arg_overrides=None, load_on_all_ranks=False)`` (line 306 of ``ve-fairseq==0.12.3``; the
same function and signature in the 0.12.2 release), through which fairseq-generate,
-interactive, -validate, -train (resuming) and ``from_pretrained`` read every
checkpoint, calls ``torch.load`` and lets its error through: ``PytorchStreamReader
failed reading zip archive`` (a truncated file), a bare ``EOFError`` (an empty one),
``Unsupported operand`` (not a checkpoint).  fairseq has no check of its own; we cannot
name an upstream issue for it.  When the call fails, the file is examined
(:func:`sutskever_plugin.checkpoint_check.diagnose`); a damaged one becomes
:class:`~sutskever_plugin.checkpoint_check.CorruptCheckpointError`, any other failure is
re-raised unchanged, and an intact checkpoint is never examined.

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
