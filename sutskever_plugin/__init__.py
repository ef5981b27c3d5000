"""sutskever-seq2seq: Sutskever, Vinyals & Le (2014) as a fairseq user-dir plugin.

``--user-dir sutskever_plugin`` (or ``import sutskever_plugin``) registers the
``sutskever_lstm`` architectures, fairseq's ``lstm`` with bf16 autocast
(``lstm_autocast``), the ``translation_reversed`` task, the ``sutskever_halving`` lr
scheduler, the ``sutskever_sgd`` and ``fused_adam`` optimizers and the
``sutskever_cross_entropy`` criterion, lets torch >= 2.6 load fairseq checkpoints, and
keeps fairseq from dropping the last partial batch, makes resumed trainings exact and
checks every checkpoint it loads against the task and dictionaries (see
:mod:`.fairseq_patches`; the checks: checkpoint_check), and prints user-facing errors as
one line (errors).
"""
from . import errors

errors.install()  # user-facing errors as one line (SUTSKEVER_DEBUG=1: with the traceback)

from . import fairseq_patches  # noqa: F401,E402  (before any batch is built or checkpoint loaded)
from .criterions import sutskever_cross_entropy  # noqa: F401
from .criterions import sutskever_label_smoothed_cross_entropy  # noqa: F401
from .models import lstm_autocast, sutskever_lstm  # noqa: F401
from .optim import fused_adam, sutskever_halving, sutskever_sgd  # noqa: F401
from .tasks import translation_reversed  # noqa: F401
