"""What a number was measured on and with: one line for the hardware, and the commit of
the code that produced it."""
import os
import platform
import subprocess
from typing import Optional

# The repository this plugin is imported from (the commit describes this code, not the
# directory a script happens to run in).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOT_A_CHECKOUT = "unknown (not a git checkout)"


def commit(root: Optional[str] = None) -> str:
    """The short commit of the code, e.g. ``1d88d30``, with ``+dirty`` when tracked files
    differ from it; :data:`NOT_A_CHECKOUT` outside a git checkout (or without git).

    Changes under ``results/`` do not count as dirty: those files are what the scripts
    write, so a run that rewrites Table 1 and then Table 2 would otherwise stamp every
    table after the first as made from uncommitted code. Untracked files do not count
    either (work directories, a user's own test sets).

    A copy of a checkout cannot always tell its commit: a working tree sent to a lent GPU
    machine (scripts/gpu_check.sh) came there with no ``.git``, or with the ``.git`` of an
    older commit beneath newer files. Whoever made the copy states its commit in
    ``SUTSKEVER_COMMIT``; set, it is the stamp, marked as stated: ``<commit> (stated)``.
    """
    stated = os.environ.get("SUTSKEVER_COMMIT", "").strip()
    if stated:
        return f"{stated} (stated)"
    root = root or REPO_ROOT

    def git(*args):
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True,
                              timeout=60)
    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode != 0 or not head.stdout.strip():
            return NOT_A_CHECKOUT
        # git status refreshes the index first, so a file only touched is not "dirty"
        status = git("status", "--porcelain", "--untracked-files=no", "--", ".",
                     ":(exclude)results")
    except (OSError, subprocess.SubprocessError):
        return NOT_A_CHECKOUT
    if status.returncode != 0:
        return NOT_A_CHECKOUT
    return head.stdout.strip() + ("+dirty" if status.stdout.strip() else "")


def has_amx(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has AMX tile instructions (``amx_bf16`` in /proc/cpuinfo): where it
    has, bf16 matrix multiplies run several times faster than without."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def describe() -> str:
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        pass
    desc = f"{os.cpu_count()}-core CPU ({cpu}){mem}"
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        desc = f"{n}x {torch.cuda.get_device_name(0)} + " + desc
    return desc + f", torch {torch.__version__}"


if __name__ == "__main__":
    # python sutskever_plugin/machine.py commit: the stamp, for the scripts (run as a
    # script, it starts without the plugin); python -m sutskever_plugin.machine describe:
    # this machine, once the plugin (and with it fairseq) imports (scripts/setup_env.sh)
    import sys
    verbs = {"commit": commit, "describe": describe}
    if len(sys.argv) != 2 or sys.argv[1] not in verbs:
        sys.exit("usage: python sutskever_plugin/machine.py commit|describe")
    print(verbs[sys.argv[1]]())
