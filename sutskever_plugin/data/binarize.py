"""Binarization with fairseq's own ``fairseq-preprocess`` (run as a subprocess)."""
import logging
import os
import shlex
import subprocess
import sys
from typing import List

from .textio import DataPrepError, atomic_dir

logger = logging.getLogger(__name__)


_OPTIONS = ("trainpref", "validpref", "testpref", "srcdict", "tgtdict", "destdir", "nwordssrc", "nwordstgt")


def preprocess_args(
    destdir: str,
    src: str = "en",
    tgt: str = "fr",
    only_source: bool = False,
    workers: int = 2,
    **options,
) -> List[str]:
    """fairseq-preprocess arguments (without the executable); ``options``: the other
    ``--NAME VALUE`` of :data:`_OPTIONS`, left out when None."""
    assert set(options) <= set(_OPTIONS), options
    options["destdir"] = destdir
    args = ["--source-lang", src, "--target-lang", tgt]
    for name in _OPTIONS:
        if options.get(name):
            args += [f"--{name}", str(options[name])]
    return args + (["--only-source"] if only_source else []) + ["--workers", str(workers)]


def format_command(args: List[str], exe: str = "fairseq-preprocess") -> str:
    return " ".join(shlex.quote(a) for a in [exe] + args)


def run_preprocess(destdir: str, quiet: bool = False, **kwargs) -> None:
    """Run fairseq-preprocess into ``destdir`` (built in a temp dir, renamed when complete)."""
    with atomic_dir(destdir) as tmp:
        args = preprocess_args(tmp, **kwargs)
        cmd = [sys.executable, "-m", "fairseq_cli.preprocess"] + args  # this environment's
        logger.info("running: " + format_command(preprocess_args(destdir, **kwargs)))
        proc = subprocess.run(
            cmd,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
        )
        if proc.returncode != 0:
            tail = (proc.stdout or "")[-3000:]
            raise DataPrepError(
                f"fairseq-preprocess failed (exit {proc.returncode}): "
                f"{format_command(args)}\n{tail}"
            )
        log = os.path.join(tmp, "preprocess.log")
        if os.path.exists(log):  # the log names the temp dir; keep it but say so
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"(written to {tmp}, renamed to {destdir})\n")
