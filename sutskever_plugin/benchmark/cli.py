"""The benchmark's command line (``python scripts/benchmark.py``; what it measures and why:
docs/speed.md and the report's own notes)."""
import argparse
import datetime
import functools
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from ..data.textio import write_text
from ..machine import REPO_ROOT, commit, describe
from .config import GPU_PRECISIONS, GPU_SIZES, MAIN_JOB, MAIN_JOB_FLAGS, MAIN_JOB_RECIPE, SCALING, SIZES
from .cpu import bench_allocator, bench_main_job, bench_scaling, bench_size, mfu_against_run_best
from .cuda import bench_device
from .profiling import profile
from .report import existing_notes, write_device_report, write_report
from .timing import load1

log = functools.partial(print, flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python scripts/benchmark.py", description=__doc__)
    p.add_argument("--quick", action="store_true", help="tiny sizes, < 60 s (used by the tests)")
    p.add_argument("--sizes", help="comma-separated subset of the mode's sizes "
                   f"(full: {','.join(SIZES['full'])}; quick: {','.join(SIZES['quick'])}; "
                   f"cuda: {','.join(GPU_SIZES)})")
    p.add_argument("--out-dir", default=str(Path(REPO_ROOT) / "results"), help="where the reports go")
    p.add_argument("--profile", action="store_true", help="print torch.profiler tables, write them to "
                   "OUT_DIR/benchmark_profile.md and exit")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: training words/s on one GPU in fp32, fp16 and amp, and ours in fp32 "
                        "with sparse embedding gradients: benchmark_gpu.{md,csv}")
    a = p.parse_args(argv)
    sizes = GPU_SIZES if a.device == "cuda" else SIZES["quick" if a.quick else "full"]
    names = a.sizes.split(",") if a.sizes else list(sizes)
    for n in names:
        if n not in sizes:
            p.error(f"unknown size {n!r}; choose from {', '.join(sizes)}")
    if a.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA device here (torch.cuda.is_available() is False)")
    out_dir = Path(a.out_dir)
    start, t0 = datetime.datetime.now(datetime.timezone.utc), time.time()

    def run_meta():
        return dict(machine=describe(), start=start.strftime("%Y-%m-%d %H:%M"),
                    end=datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M"),
                    wall=time.time() - t0,
                    command=" ".join(["python scripts/benchmark.py",
                                      *(argv if argv is not None else sys.argv[1:])]))

    if a.device == "cuda":
        with tempfile.TemporaryDirectory() as root:
            rows = bench_device(root, names, GPU_SIZES, list(GPU_PRECISIONS), log)
        write_device_report(out_dir, rows, run_meta())
        log(f"wrote {out_dir / 'benchmark_gpu.md'}")
        return 0

    # one thread: on a shared 2-core machine two OpenMP threads wait on each other
    # whenever another process holds a core
    torch.set_num_threads(1)
    mode, load_start = "quick" if a.quick else "full", load1()
    log(f"machine: {describe()}; torch threads {torch.get_num_threads()}; load {load_start:.2f}")
    with tempfile.TemporaryDirectory() as root:
        if a.profile:
            return write_profile(root, names, sizes, MAIN_JOB[mode], run_meta, out_dir)
        rows, setup, trainers = bench_size(root, names[0], sizes[names[0]], log, keep=True)
        for n in names[1:]:
            rows += bench_size(root, n, sizes[n], log)[0]
        rows += bench_scaling(names[0], sizes[names[0]], SCALING[mode], setup, trainers, log)
        setup = trainers = None
        gc.collect()
        rows += bench_main_job(root, MAIN_JOB[mode], log)
        gc.collect()
        rows += bench_allocator(root, names, sizes, log)
    mfu_against_run_best(rows)

    def span(key, precision):
        got = [r[key] for r in rows if r.get(key) and r.get("precision") == precision]
        return f"{min(got):.0f} to {max(got):.0f}" if got else "n/a"

    meta = dict(run_meta(), threads=torch.get_num_threads(), mode=mode,
                load_start=load_start, load_end=load1(),
                mm_wall=span("mm_gflop_per_s", "fp32"), mm_cpu=span("mm_gflop_per_cpu_s", "fp32"),
                mm_bf16=span("mm_gflop_per_cpu_s", "bf16"),
                maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, sizes=names)
    write_report(out_dir, rows, meta, existing_notes(out_dir / "benchmark.md"))
    log(f"wrote {out_dir / 'benchmark.md'} and {out_dir / 'benchmark.csv'} in {time.time() - t0:.0f} s")
    return 0


def write_profile(root, names, sizes, main_job, run_meta, out_dir):
    """``--profile``: the tables of each size (fp32 and bf16) and of the small-scale main
    job's recipe, printed and written to benchmark_profile.md (the notes quote it)."""
    lines = []

    def both(msg):
        lines.append(msg)
        log(msg)
    for n in names:
        profile(root, n, sizes[n], both)
    profile(root, "main_job", main_job, both, extra=MAIN_JOB_FLAGS, recipe=MAIN_JOB_RECIPE)
    meta = run_meta()
    head = ["# Profiles of a training step (torch.profiler, CPU)", "",
            f"Generated by `{meta['command']}` from commit {commit()}; machine: {meta['machine']}; "
            f"torch threads {torch.get_num_threads()}; run {meta['start']} to {meta['end']} UTC "
            f"({meta['wall']:.0f} s). Self CPU time per op, sorted; the first line of each "
            "step splits it into matrix multiplies and the rest.", "", "```"]
    write_text(str(out_dir / "benchmark_profile.md"), "\n".join(head + lines + ["```", ""]))
    log(f"wrote {out_dir / 'benchmark_profile.md'}")
    return 0
