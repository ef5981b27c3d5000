"""What this plugin changes in fairseq itself, one module per patch, each installed on
import, a no-op where its gap cannot occur, and naming the upstream code and the fairseq
versions it answers (checked: the 0.12.2 release, used on Python 3.10, and
``ve-fairseq==0.12.3``, a build of upstream main, used on Python >= 3.11). The checks
themselves live in :mod:`sutskever_plugin.checkpoint_check`.
"""
from . import batching  # noqa: F401  (no sentence dropped from batch lists)
from . import checkpoint_load  # noqa: F401  (before any checkpoint is loaded)
from . import checked_ensemble, corrupt_checkpoint, dictionary_record  # noqa: F401
from . import resume  # noqa: F401  (a resumed training retraces the uninterrupted one)
