"""Record in every checkpoint fairseq-train writes the sha256 of its source and target
dictionaries' entries (``checkpoint_check.RECORD_KEY``), so that decoding with other
dictionaries of the same size is refused.

Upstream: ``fairseq/trainer.py``, ``Trainer.state_dict`` (line 401 of
``ve-fairseq==0.12.3``, the same in 0.12.2) stores the data directory's path, nothing
that identifies the dictionaries' entries (no upstream issue we can name); fairseq
ignores the extra key when loading.

Applies to: fairseq 0.12.2 and ve-fairseq 0.12.3.
"""
from fairseq.trainer import Trainer

from ..checkpoint_check import RECORD_KEY, dictionary_digest

_original = Trainer.state_dict


def state_dict(self):
    out = _original(self)
    task = self.task
    if task is not None and getattr(task, "source_dictionary", None) is not None \
            and getattr(task, "target_dictionary", None) is not None:
        out[RECORD_KEY] = {"source": dictionary_digest(task.source_dictionary),
                           "target": dictionary_digest(task.target_dictionary)}
    return out


if getattr(Trainer.state_dict, "__module__", None) != __name__:
    Trainer.state_dict = state_dict
