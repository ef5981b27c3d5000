"""Check every checkpoint loaded for decoding or scoring against the task, before its
weights are copied: the source direction and the dictionaries
(:func:`sutskever_plugin.checkpoint_check.check`).

Upstream: ``fairseq/checkpoint_utils.py``, ``load_model_ensemble_and_task(filenames,
arg_overrides=None, task=None, strict=True, suffix="", num_shards=1, state=None)`` (line
419 of ``ve-fairseq==0.12.3``; the same function and signature in the 0.12.2 release),
through which fairseq-generate, -interactive, -validate, ``from_pretrained`` and our
rescoring load their models, sets the task up from the first checkpoint and builds every
model with it whatever task each was trained with, and copies the weights without
comparing the dictionaries (a vocabulary of another size ends in a tensor-size
traceback, one of the same size in silently wrong translations).  fairseq has no check
of its own; we cannot name an upstream issue for it.  We load one checkpoint at a time
through the original, each checked first; sharded loads (``num_shards``, ``suffix``) are
passed through unchanged.

Applies to: fairseq 0.12.2 and ve-fairseq 0.12.3.
"""
import os

from fairseq import checkpoint_utils

from ..checkpoint_check import check

_original = checkpoint_utils.load_model_ensemble_and_task


def load_model_ensemble_and_task(filenames, arg_overrides=None, task=None, strict=True,
                                 suffix="", num_shards=1, state=None):
    """fairseq's loader, one checkpoint at a time, each checked against the task before
    its weights are loaded (the task set up from the first checkpoint when none is given)."""
    if num_shards != 1 or suffix or (state is not None and len(filenames) != 1):
        return _original(filenames, arg_overrides=arg_overrides, task=task, strict=strict,
                         suffix=suffix, num_shards=num_shards, state=state)
    ensemble, cfg = [], None
    for path in filenames:
        st = state
        if st is None:
            if not os.path.exists(path):
                raise IOError(f"Model file not found: {path}")
            st = checkpoint_utils.load_checkpoint_to_cpu(path, arg_overrides)
        if task is None:  # as fairseq does: the task the first checkpoint was trained with
            from fairseq import tasks
            from fairseq.dataclass.utils import convert_namespace_to_omegaconf

            saved = (convert_namespace_to_omegaconf(st["args"]) if st.get("args") is not None
                     else st.get("cfg"))
            if saved is not None:
                task = tasks.setup_task(saved.task, from_checkpoint=True)
        if task is not None:
            check(path, st, task, ensemble=len(filenames) > 1)
        models, cfg, task = _original([path], arg_overrides=arg_overrides, task=task,
                                      strict=strict, state=st)
        ensemble.extend(models)
        state = None
    return ensemble, cfg, task


if getattr(checkpoint_utils.load_model_ensemble_and_task, "__module__", None) != __name__:
    checkpoint_utils.load_model_ensemble_and_task = load_model_ensemble_and_task
