"""User-facing errors print as one line, without a Python traceback.

Exceptions of classes marked :func:`user_facing` (a corrupt or mismatched checkpoint, a
malformed input, a wrong option) and the operating system's refusals to read or write a
path print as ``error: MESSAGE`` on stderr (exit status 1) through the hook that ``import
sutskever_plugin`` installs, in fairseq's commands too; ``SUTSKEVER_DEBUG=1`` restores the
traceback.
"""
import errno
import os
import re
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


# errors of the file system that the user fixes (permissions, a read-only mount, space)
_OS_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)


def _os_refusal(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _OS_ERRNOS and bool(exc.filename)


def is_user_facing(exc: BaseException) -> bool:
    return isinstance(exc, tuple(_USER_FACING)) or _os_refusal(exc)


def _os_message(exc: OSError) -> str:
    path = str(exc.filename)
    what = exc.strerror or os.strerror(exc.errno)
    # an atomic write's temporary name (steps.py atomic_path: NAME.tmp-PID) is a write of NAME
    final = re.sub(r"\.tmp-\d+$", "", path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write {final} ({what}): free some space there, or write elsewhere"
    if final != path or not os.path.exists(path):  # creating it: its directory refuses
        d = os.path.dirname(os.path.abspath(final))
        return (f"cannot write in {d} ({what}): make it writable, or give the command "
                "another output directory")
    return f"cannot open {path} ({what}): fix its permissions, or give the command another path"


def one_line(exc: BaseException) -> str:
    text = _os_message(exc) if _os_refusal(exc) and not isinstance(exc, tuple(_USER_FACING)) \
        else str(exc)
    return "error: " + " ".join(text.split())


def _hook(exc_type, exc, tb, _previous=sys.excepthook):
    if is_user_facing(exc) and os.environ.get(DEBUG_ENV, "") in ("", "0"):
        sys.stderr.write(one_line(exc) + f" (set {DEBUG_ENV}=1 for the traceback)\n")
        sys.stderr.flush()
        return
    _previous(exc_type, exc, tb)


def install():
    if getattr(sys.excepthook, "__module__", None) != __name__:
        sys.excepthook = _hook
