"""What this plugin changes in fairseq itself, one module per patch.

Each module wraps one fairseq function at import time (``--user-dir sutskever_plugin``
or ``import sutskever_plugin`` imports them all), leaves the original behaviour wherever
the gap it closes cannot occur, and says in its docstring which upstream change or
behaviour it answers and which fairseq versions it applies to (checked: the 0.12.2
release, used on Python 3.10, and ``ve-fairseq==0.12.3``, a build of upstream main, used
on Python >= 3.11):

* :mod:`.batching`: no sentence dropped from batch lists (upstream main only);
* :mod:`.checkpoint_load`: torch >= 2.6 loads fairseq checkpoints (both versions);
* :mod:`.corrupt_checkpoint`: a damaged checkpoint file named, with what to do (both);
* :mod:`.checked_ensemble`: every checkpoint loaded checked against the task (both);
* :mod:`.dictionary_record`: checkpoints record their dictionaries' entries (both);
* :mod:`.resume`: a resumed training retraces the uninterrupted one (both versions).

The checks themselves live in :mod:`sutskever_plugin.checkpoint_check`.
"""
from . import batching  # noqa: F401  (no sentence dropped from batch lists)
from . import checkpoint_load  # noqa: F401  (before any checkpoint is loaded)
from . import checked_ensemble, corrupt_checkpoint, dictionary_record  # noqa: F401
from . import resume  # noqa: F401  (a resumed training retraces the uninterrupted one)
