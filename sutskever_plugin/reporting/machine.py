"""One line describing the hardware a number was measured on."""
import os
import platform


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


def commit() -> str:
    """The code a result came from: the short commit of this checkout, "+dirty" when its
    tracked files differ from it."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "diff", "--quiet", "HEAD", "--"]).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("+dirty" if dirty else "")
