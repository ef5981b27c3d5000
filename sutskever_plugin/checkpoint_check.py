"""A clear error for a truncated or corrupt checkpoint file.

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
import os
import pickle
import zipfile
import zlib
from typing import Optional

from fairseq import checkpoint_utils


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file that is truncated, empty or not a PyTorch file."""


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
