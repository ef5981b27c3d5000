"""Checks on every checkpoint a command loads: a clear error for a truncated or corrupt
file, and for a checkpoint used with the wrong task direction or other dictionaries.

**Direction and dictionaries** (ours and fairseq's own models, e.g. the attention
analogue ``--arch lstm_autocast``).  Every checkpoint stores the task it was trained with
(``cfg.task._name``, or ``args.task`` in older ones).  A model trained under
``translation_reversed`` has only ever seen reversed sources, one trained under
``translation`` forward ones: decoding either under the other task, or mixing them in
one ensemble (``--path reversed1.pt:attention.pt``), gives fluent-looking garbage with
exit status 0.  Checkpoints written while this plugin is imported also record the
sha256 of their source and target dictionaries' entries; a checkpoint decoded with
dictionaries of other contents (even of the same size) is refused.  Older checkpoints
are compared with the dictionaries of the data directory they were trained on
(``cfg.task.data``) when it still exists, else by size.  The checks run in
``checkpoint_utils.load_model_ensemble_and_task``, through which fairseq-generate,
-interactive, -validate, ``from_pretrained`` and the rescoring load their models, and
before any weight is copied, so a mismatch never ends in a tensor-size traceback.

**Corrupt files.**

Without it fairseq-generate / -interactive / -validate / -train (resuming) and the hub
interface fail deep inside ``torch.load`` with messages that never name the file:
``PytorchStreamReader failed reading zip archive: failed finding central directory``
(a truncated file), a bare ``EOFError`` (an empty file), or ``Unsupported operand 103``
followed by advice about ``weights_only`` (a file that is not a checkpoint at all).

We wrap ``fairseq.checkpoint_utils.load_checkpoint_to_cpu``, the one function through
which all of them read a checkpoint.  When it fails, the file itself is examined; if it
is damaged the error becomes :class:`CorruptCheckpointError` naming the file, what is
wrong with it and what to do.  Any other failure (an intact file that cannot be loaded
for another reason) is re-raised unchanged.  Intact checkpoints are not touched: the
check only runs after a failure.
"""
import hashlib
import os
import pickle
import zipfile
import zlib
from typing import Optional

from fairseq import checkpoint_utils

from .errors import user_facing


@user_facing
class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that is truncated, empty or not a PyTorch file."""


@user_facing
class CheckpointMismatchError(ValueError):
    """A checkpoint that cannot be used with this model, task or dictionary."""


_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6
_LEGACY_MAGIC = b"\x80"  # pickle protocol >= 2: torch's legacy (pre-1.6) format


def diagnose(path: str, error: Optional[BaseException] = None) -> Optional[str]:
    """What is wrong with the file at ``path`` as a checkpoint, or None if it looks intact.

    ``error`` is the exception loading it raised (used for legacy-format files, which
    carry no checksums).
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return None  # missing or unreadable: the loader's own error says so
    if size == 0:
        return "the file is empty"
    if head == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()  # reads every member and checks its CRC
        except zipfile.BadZipFile:
            return (f"{size} bytes of a zip archive, torch's format, without its end-of-archive "
                    "record: its writing was cut short")
        except (OSError, EOFError, zlib.error) as e:
            return f"unreadable zip archive: {type(e).__name__}: {e}"
        if bad is not None:
            return f"zip member {bad} fails its CRC check: damaged bytes"
        return None
    if head[:1] == _LEGACY_MAGIC:
        text = str(error)
        damaged = (isinstance(error, EOFError) or "Ran out of input" in text or "truncated" in text
                   or (isinstance(error, pickle.UnpicklingError) and "Unsupported global" not in text))
        if damaged:
            return f"{size} bytes of torch's legacy format that end early or are damaged: {type(error).__name__}"
        return None
    return f"not a PyTorch file: it starts with the bytes {head!r}"


def message(path: str, reason: str) -> str:
    msg = f"checkpoint {path} is truncated or corrupt ({reason}): re-save or re-download it"
    if os.path.basename(path).startswith("checkpoint_last"):
        msg += (". If a training was interrupted while writing it, replace it with the newest "
                "intact checkpoint of the same directory (checkpoint_E_U.pt or "
                "checkpoint_best.pt) and rerun to resume from there")
    else:
        msg += " (rerunning the same command cannot repair it)"
    return msg


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


# ------------------------------------------------------------ direction and dictionaries

RECORD_KEY = "sutskever_dictionaries"  # top-level key of the checkpoints we write


def dictionary_digest(dictionary) -> str:
    """sha256 of a fairseq dictionary's entries in order (their counts do not matter)."""
    return hashlib.sha256("\n".join(dictionary.symbols).encode("utf-8")).hexdigest()


def checkpoint_task(state) -> Optional[str]:
    """The --task a checkpoint was trained with, as stored in it."""
    args = state.get("args")
    if args is not None and getattr(args, "task", None):
        return args.task
    cfg = state.get("cfg")
    if cfg is None:
        return None
    task = cfg["task"] if "task" in cfg else None
    if task is None:
        return None
    name = task.get("_name") if hasattr(task, "get") else getattr(task, "_name", None)
    return name or None


def _trained_data_dir(state) -> Optional[str]:
    args = state.get("args")
    if args is not None and getattr(args, "data", None):
        return args.data
    cfg = state.get("cfg")
    task = cfg["task"] if cfg is not None and "task" in cfg else None
    data = task.get("data") if task is not None and hasattr(task, "get") else None
    return str(data) if data else None


def task_reverses(name: Optional[str]) -> Optional[bool]:
    """Whether the registered task ``name`` reads its source reversed (None: unknown)."""
    if name is None:
        return None
    from fairseq.tasks import TASK_REGISTRY

    cls = TASK_REGISTRY.get(name)
    return None if cls is None else bool(getattr(cls, "reverses_source", False))


def _direction(reverses: bool) -> str:
    return "reversed" if reverses else "forward"


def check_task(path: str, state, task) -> None:
    """Refuse a checkpoint trained with the other source direction than ``task`` reads."""
    trained_task = checkpoint_task(state)
    trained = task_reverses(trained_task)
    now = bool(getattr(task, "reverses_source", False))
    if trained is None or trained == now:
        return
    have = "translation_reversed" if now else "translation"
    raise CheckpointMismatchError(
        f"checkpoint {path} was trained with --task {trained_task} ({_direction(trained)} source "
        f"sentences) but is being used with --task {have}, which reads them {_direction(now)}: "
        f"rerun with --task {trained_task}"
        + (" (every model of an ensemble must have been trained with the same task)"
           if getattr(task, "_sutskever_ensemble", False) else ""))


def _dictionaries_of(data_dir: str, task):
    from fairseq.data import Dictionary

    out = {}
    for side, lang in (("source", getattr(task.cfg, "source_lang", None)),
                       ("target", getattr(task.cfg, "target_lang", None))):
        f = os.path.join(data_dir, f"dict.{lang}.txt")
        if lang is None or not os.path.isfile(f):
            return None
        out[side] = dictionary_digest(Dictionary.load(f))
    return out


def check_dictionaries(path: str, state, task) -> None:
    """Refuse a checkpoint whose dictionaries differ from the task's (entries, not sizes)."""
    src_dict = getattr(task, "source_dictionary", None)
    tgt_dict = getattr(task, "target_dictionary", None)
    if src_dict is None or tgt_dict is None:
        return
    now = {"source": dictionary_digest(src_dict), "target": dictionary_digest(tgt_dict)}
    recorded = state.get(RECORD_KEY)
    how = "recorded in the checkpoint"
    if not recorded:
        data = _trained_data_dir(state)
        data = data.split(os.pathsep)[0] if data else None
        recorded = _dictionaries_of(data, task) if data and os.path.isdir(data) else None
        how = f"of its training data {data}"
    for side, d in (("source", src_dict), ("target", tgt_dict)):
        rows = _embedding_rows(state, side)
        if rows is not None and rows != len(d):
            raise CheckpointMismatchError(
                f"checkpoint {path}: its {side} vocabulary has {rows} entries but the {side} "
                f"dictionary given now has {len(d)}: decode with the data directory "
                "(dict.*.txt) the model was trained with")
        if recorded and recorded.get(side) and recorded[side] != now[side]:
            raise CheckpointMismatchError(
                f"checkpoint {path} was trained with another {side} dictionary than the one "
                f"given now (the same {len(d)} entries in number, but the dictionary {how} "
                "holds other words or another order): decode with the data directory "
                "(dict.*.txt) the model was trained with")


def _embedding_rows(state, side) -> Optional[int]:
    model = state.get("model") or {}
    w = model.get(("encoder" if side == "source" else "decoder") + ".embed_tokens.weight")
    return int(w.shape[0]) if w is not None and hasattr(w, "shape") else None


def check(path: str, state, task) -> None:
    check_task(path, state, task)
    check_dictionaries(path, state, task)


_original_ensemble = checkpoint_utils.load_model_ensemble_and_task


def load_model_ensemble_and_task(filenames, arg_overrides=None, task=None, strict=True,
                                 suffix="", num_shards=1, state=None):
    """fairseq's loader, one checkpoint at a time, each checked against the task before
    its weights are loaded (the task set up from the first checkpoint when none is given)."""
    if num_shards != 1 or suffix or (state is not None and len(filenames) != 1):
        return _original_ensemble(filenames, arg_overrides=arg_overrides, task=task, strict=strict,
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
            if len(filenames) > 1:
                task._sutskever_ensemble = True
            check(path, st, task)
        models, cfg, task = _original_ensemble([path], arg_overrides=arg_overrides, task=task,
                                               strict=strict, state=st)
        ensemble.extend(models)
        state = None
    return ensemble, cfg, task


if getattr(checkpoint_utils.load_model_ensemble_and_task, "__module__", None) != __name__:
    checkpoint_utils.load_model_ensemble_and_task = load_model_ensemble_and_task


def _record_dictionaries():
    """Checkpoints written by fairseq-train record their task and dictionaries."""
    from fairseq.trainer import Trainer

    original = Trainer.state_dict
    if getattr(original, "__module__", None) == __name__:
        return

    def state_dict(self):
        out = original(self)
        task = self.task
        if task is not None and getattr(task, "source_dictionary", None) is not None \
                and getattr(task, "target_dictionary", None) is not None:
            out[RECORD_KEY] = {"source": dictionary_digest(task.source_dictionary),
                               "target": dictionary_digest(task.target_dictionary)}
        return out

    state_dict.__module__ = __name__
    Trainer.state_dict = state_dict


_record_dictionaries()
