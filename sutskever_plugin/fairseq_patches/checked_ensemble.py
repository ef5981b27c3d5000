"""Check every checkpoint loaded for decoding or scoring against the task before its
weights are copied (:func:`sutskever_plugin.checkpoint_check.check`).

Upstream: ``fairseq/checkpoint_utils.py``, ``load_model_ensemble_and_task`` (line 419 of
``ve-fairseq==0.12.3``, the same in 0.12.2), through which fairseq-generate, -validate,
-interactive, ``from_pretrained`` and our rescoring load models, builds every model with
the first checkpoint's task and copies weights without comparing dictionaries; fairseq
has no check of its own (no upstream issue we can name). We load one checkpoint at a
time through the original, each checked first; sharded loads pass through unchanged.

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
