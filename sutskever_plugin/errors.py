"""User-facing errors print as one line, without a Python traceback.

A bad input (a corrupt or mismatched checkpoint, a malformed corpus or n-best list, a
wrong option) is the user's to fix, and the 25-60 lines of a traceback through fairseq
hide the one line that says what to do.  Classes marked :func:`user_facing` are printed
as ``error: MESSAGE`` on stderr (exit status 1) by the hook that ``import
sutskever_plugin`` (and so ``--user-dir sutskever_plugin``) installs, in our own commands
and inside fairseq's.  ``SUTSKEVER_DEBUG=1`` restores the full traceback.  Every other
exception (a bug, an interrupted run) keeps Python's traceback.
"""
import os
import sys

DEBUG_ENV = "SUTSKEVER_DEBUG"
_USER_FACING = []


def user_facing(cls):
    """Class decorator: exceptions of ``cls`` are the user's to fix (one line)."""
    _USER_FACING.append(cls)
    return cls


@user_facing
class ConfigError(ValueError):
    """Flags that cannot work together; the message names them and why."""


def is_user_facing(exc: BaseException) -> bool:
    return isinstance(exc, tuple(_USER_FACING))


def one_line(exc: BaseException) -> str:
    return "error: " + " ".join(str(exc).split())


def _hook(exc_type, exc, tb, _previous=sys.excepthook):
    if is_user_facing(exc) and os.environ.get(DEBUG_ENV, "") in ("", "0"):
        sys.stderr.write(one_line(exc) + f" (set {DEBUG_ENV}=1 for the traceback)\n")
        sys.stderr.flush()
        return
    _previous(exc_type, exc, tb)


def install():
    if getattr(sys.excepthook, "__module__", None) != __name__:
        sys.excepthook = _hook
