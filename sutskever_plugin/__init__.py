"""sutskever-seq2seq: Sutskever, Vinyals & Le (2014) as a fairseq user-dir plugin.

``--user-dir sutskever_plugin`` (or ``import sutskever_plugin``) registers the models,
task, criteria, optimizers and lr scheduler below, patches fairseq (fairseq_patches) and
prints user-facing errors as one line (errors).
"""
import torch

# the fused softmax's autocast APIs exist from torch 2.4; on 2.3 every CPU training step
# would stop with "TypeError: torch.is_autocast_enabled() takes no arguments"
if torch.__version__ < "2.4":
    raise ImportError(f"sutskever_plugin needs torch >= 2.4 (found {torch.__version__}): "
                      "pip install 'torch>=2.4'")

from . import errors

errors.install()  # user-facing errors as one line (SUTSKEVER_DEBUG=1: with the traceback)

from . import fairseq_patches  # noqa: F401,E402  (before any batch is built or checkpoint loaded)
from .criterions import sutskever_cross_entropy  # noqa: F401
from .criterions import sutskever_label_smoothed_cross_entropy  # noqa: F401
from .models import lstm_autocast, sutskever_lstm  # noqa: F401
from .optim import fused_adam, sutskever_halving, sutskever_sgd  # noqa: F401
from .tasks import translation_reversed  # noqa: F401
