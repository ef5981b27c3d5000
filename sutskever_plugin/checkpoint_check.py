"""Every check on a checkpoint, each error with one message wherever it is caught
(docs/reliability.md, docs/errors.md): a truncated or corrupt file (:func:`diagnose`), the
other source direction or other dictionaries than the task's (:func:`check`), and weights
a sutskever_lstm model cannot take (:func:`check_weights`). The fairseq functions they
run through are wrapped in :mod:`.fairseq_patches`.
"""
import hashlib
import os
import pickle
import shlex
import zipfile
import zlib
from typing import Optional

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
    """What is wrong with the file at ``path`` as a checkpoint, or None if it looks intact;
    ``error``, the exception loading it raised, judges legacy files (no checksums)."""
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
    elif os.path.basename(os.path.dirname(os.path.abspath(path))) == "models":
        # a model of record of scripts/reproduce_table1.sh (WORK/models/NAME.pt): its rerun
        # keeps it while its key matches, and makes it again once it is gone
        work = os.path.dirname(os.path.dirname(os.path.abspath(path)))
        name = os.path.splitext(os.path.basename(path))[0]
        msg = (f"checkpoint {path} is truncated or corrupt ({reason}): delete it and rerun "
               "bash scripts/reproduce_table1.sh with the options that made it "
               f"(--work {shlex.quote(work)}): it makes {name}.pt again from that training's checkpoints in "
               f"{work}/checkpoints/{name} (delete that directory too to train it anew; a rerun "
               "that finds the damaged file in place keeps it)")
    else:
        msg += " (rerunning the same command cannot repair it)"
    return msg


# ------------------------------------------------------------ direction and dictionaries

RECORD_KEY = "sutskever_dictionaries"  # top-level key of the checkpoints we write


def dictionary_digest(dictionary) -> str:
    """sha256 of a fairseq dictionary's entries in order (their counts do not matter)."""
    return hashlib.sha256("\n".join(dictionary.symbols).encode("utf-8")).hexdigest()


def checkpoint_task(state) -> Optional[str]:
    """The --task a checkpoint was trained with (fairseq's loader puts legacy ``args``
    into ``cfg``)."""
    cfg = state.get("cfg")
    if cfg is None:
        return None
    task = cfg["task"] if "task" in cfg else None
    if task is None:
        return None
    name = task.get("_name") if hasattr(task, "get") else getattr(task, "_name", None)
    return name or None


def task_reverses(name: Optional[str]) -> Optional[bool]:
    """Whether the registered task ``name`` reads its source reversed (None: unknown)."""
    if name is None:
        return None
    from fairseq.tasks import TASK_REGISTRY

    cls = TASK_REGISTRY.get(name)
    return None if cls is None else bool(getattr(cls, "reverses_source", False))


def _direction(reverses: bool) -> str:
    return "reversed" if reverses else "forward"


def _named(path: Optional[str]) -> str:
    return f"checkpoint {path}" if path else "the checkpoint"


def _direction_error(path, trained_task: str, trained: bool, now: bool, ensemble=False):
    have = "translation_reversed" if now else "translation"
    return CheckpointMismatchError(
        f"{_named(path)} was trained with --task {trained_task} ({_direction(trained)} source "
        f"sentences) but is being used with --task {have}, which reads them {_direction(now)}: "
        f"rerun with --task {trained_task}"
        + (" (every model of an ensemble must have been trained with the same task)" if ensemble else ""))


def _vocabulary_error(path, side: str, rows: int, given: int):
    return CheckpointMismatchError(
        f"{_named(path)}: its {side} vocabulary has {rows} entries but the {side} "
        f"dictionary given now has {given}: decode with the data directory "
        "(dict.*.txt) the model was trained with")


def check(path: str, state, task, ensemble: bool = False) -> None:
    """Refuse a loaded checkpoint ``state`` trained with the other source direction than
    ``task`` reads (``ensemble``: one of several models loaded together) or with other
    dictionaries than the task's (sizes, then entries)."""
    trained_task = checkpoint_task(state)
    trained = task_reverses(trained_task)
    now = bool(getattr(task, "reverses_source", False))
    if trained is not None and trained != now:
        raise _direction_error(path, trained_task, trained, now, ensemble)
    src_dict = getattr(task, "source_dictionary", None)
    tgt_dict = getattr(task, "target_dictionary", None)
    if src_dict is None or tgt_dict is None:
        return
    now = {"source": dictionary_digest(src_dict), "target": dictionary_digest(tgt_dict)}
    recorded = state.get(RECORD_KEY)
    for side, d in (("source", src_dict), ("target", tgt_dict)):
        rows = _embedding_rows(state.get("model") or {}, side)
        if rows is not None and rows != len(d):
            raise _vocabulary_error(path, side, rows, len(d))
        if recorded and recorded.get(side) and recorded[side] != now[side]:
            raise CheckpointMismatchError(
                f"checkpoint {path} was trained with another {side} dictionary than the one "
                f"given now (the same {len(d)} entries in number, but the dictionary recorded in "
                "the checkpoint holds other words or another order): decode with the data directory "
                "(dict.*.txt) the model was trained with")


def _embedding_rows(weights, side) -> Optional[int]:
    w = weights.get(("encoder" if side == "source" else "decoder") + ".embed_tokens.weight")
    return int(w.shape[0]) if w is not None and hasattr(w, "shape") else None


# ------------------------------------------------------------ our model's weights

def check_weights(model, weights, path: Optional[str] = None) -> None:
    """Refuse weights (a state dict) that a sutskever_lstm ``model`` cannot take: another
    architecture or size, other vocabulary sizes, the other source direction, or an
    average of reversed and forward models.  ``SutskeverLSTMModel.load_state_dict`` runs
    it, so it also guards a resumed fairseq-train and direct loads."""
    own = model.state_dict()
    missing = sorted(set(own) - set(weights))
    unexpected = sorted(set(weights) - set(own))
    if missing or unexpected:
        raise CheckpointMismatchError(
            "checkpoint does not hold a sutskever_lstm model of this shape (was it trained "
            f"with another --arch or other --*-layers?): missing {missing[:4]}, "
            f"unexpected {unexpected[:4]}")
    for side in ("source", "target"):
        rows, given = _embedding_rows(weights, side), _embedding_rows(own, side)
        if rows != given:
            raise _vocabulary_error(path, side, rows, given)
    for name, tensor in weights.items():
        if tensor.shape != own[name].shape:
            raise CheckpointMismatchError(
                f"checkpoint tensor {name} has shape {tuple(tensor.shape)} but the model "
                f"built from the given flags has {tuple(own[name].shape)}: use the "
                "checkpoint's own --arch and size flags")
    trained, now = _reversal_flag(weights["source_reversed"]), bool(model.source_reversed)
    if trained != now:
        raise _direction_error(path, "translation_reversed" if trained else "translation",
                               trained, now)


def _reversal_flag(recorded) -> bool:
    """A checkpoint's ``source_reversed``: a bool (checkpoints before averaging was
    supported), 1.0 / 0.0, or their mean over averaged checkpoints."""
    value = float(recorded)
    if value not in (0.0, 1.0):
        raise CheckpointMismatchError(
            f"this checkpoint's source_reversed flag is {value:g}, the mean of checkpoints "
            "trained on reversed and on forward source sentences: an average of such "
            "models is meaningless; average checkpoints of one task only")
    return value == 1.0
