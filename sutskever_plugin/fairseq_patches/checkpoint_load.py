"""Let torch >= 2.6 load fairseq checkpoints without turning its safety check off.

torch 2.6 made ``torch.load(weights_only=True)`` the default, and fairseq's
``checkpoint_utils.load_checkpoint_to_cpu`` calls ``torch.load`` without the argument
(line 315 of 0.12.2, line 340 of ``ve-fairseq==0.12.3``; no upstream fix we can name), so
every fairseq checkpoint fails with ``Unsupported global: argparse.Namespace``. Instead
of ``weights_only=False`` (arbitrary pickled code) we allow-list exactly the non-tensor
types a fairseq checkpoint holds: ``argparse.Namespace`` (``cfg.model`` of models with
``add_args``, legacy ``args``) and numpy scalars and dtypes (metrics in
``extra_state``).

Applies to: fairseq 0.12.2 and ve-fairseq 0.12.3 under torch >= 2.6 (harmless on 2.4-2.5).
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


torch.serialization.add_safe_globals(FAIRSEQ_CHECKPOINT_GLOBALS)  # exists since torch 2.4
