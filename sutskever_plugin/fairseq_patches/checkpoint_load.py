"""Let torch >= 2.6 load fairseq checkpoints without turning its safety check off.

torch 2.6 made ``torch.load(weights_only=True)`` the default, and fairseq's
``load_checkpoint_to_cpu`` calls ``torch.load`` without the argument, so stock
fairseq-generate/-interactive/-validate and ``from_pretrained`` fail on every fairseq
checkpoint with ``Unsupported global: argparse.Namespace``.  Instead of
``weights_only=False`` (which runs arbitrary pickled code) we allow-list exactly the
non-tensor types a fairseq checkpoint holds:

* ``argparse.Namespace``: ``cfg.model`` of every model declared with ``add_args``
  (ours, fairseq's ``lstm``), and the legacy top-level ``args``;
* numpy scalars and their dtypes: values fairseq's meters and ``best_*`` metrics can
  store (``extra_state["metrics"]``) when a metric was computed with numpy.

Everything else (dicts, lists, OrderedDict, tensors, floats) is allowed by torch
already.  Importing this plugin (``--user-dir sutskever_plugin`` or
``import sutskever_plugin``) registers the list.

Upstream: PyTorch 2.6 changed the default of ``torch.load`` to ``weights_only=True``;
fairseq's ``checkpoint_utils.load_checkpoint_to_cpu`` reads every checkpoint with
``torch.load(f, map_location=torch.device("cpu"))`` (line 315 of the 0.12.2 release, line
340 of ``ve-fairseq==0.12.3``, the same on upstream main), so neither version passes
``weights_only`` and fairseq has no fix of its own (we cannot name an upstream issue or
PR for it with confidence).  ``add_safe_globals`` exists since torch 2.4.

Applies to: fairseq 0.12.2 and ve-fairseq 0.12.3 under torch >= 2.6 (torch 2.4-2.5: the
registration is harmless, the default still loads everything; torch < 2.4: nothing to
register).
"""
import argparse

import numpy as np
import torch


def _numpy_scalar_types():
    try:  # numpy >= 1.25 / 2.x
        from numpy._core.multiarray import scalar
    except ImportError:  # pragma: no cover - older numpy
        from numpy.core.multiarray import scalar
    dtypes = [type(np.dtype(t)) for t in ("float64", "float32", "int64", "int32", "bool")]
    return [scalar, np.dtype, *dtypes]


FAIRSEQ_CHECKPOINT_GLOBALS = [argparse.Namespace, *_numpy_scalar_types()]


def register():
    add = getattr(torch.serialization, "add_safe_globals", None)
    if add is not None:  # torch < 2.4 loads everything anyway
        add(FAIRSEQ_CHECKPOINT_GLOBALS)


register()
