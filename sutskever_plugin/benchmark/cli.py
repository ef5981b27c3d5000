"""Speed of ``sutskever_lstm`` against fairseq's built-in ``lstm``, side by side, in one run.

What it measures (issue 7), at two or three sizes:

* training throughput, target words/s (fairseq's ``ntokens``: target tokens incl. EOS),
  of both models through the same in-process fairseq ``Trainer`` (SGD, cross_entropy,
  ``--sentence-avg --clip-norm 5``, as the paper recipe) on the same batches; the two
  models' timed steps are interleaved round by round so machine load hits both alike;
* generation speed, sentences/s at beam 1 and beam 12, through fairseq's
  ``SequenceGenerator`` (output length forced to the same value for both models, so the
  work per sentence is identical whatever an untrained model would like to emit);
* model FLOP utilisation (MFU): counted matmul FLOPs of the training step per second
  over the FLOP/s a large fp32 ``torch.mm`` reaches on this machine in the same run;
* peak memory (resident set size sampled during the measured steps, and the process'
  ``ru_maxrss``);
* how time grows with sentence length, batch size and beam size;
* the same training measurement with the matmuls in bfloat16 (``--autocast-bf16`` for
  both; the built-in as ``lstm_autocast``, fairseq's model with that flag), against the bf16
  matmul rate, and in fp32 again at the end of the run with glibc keeping freed memory
  (``MALLOC_MMAP_MAX_=0``, as ``scripts/reproduce_table1.sh`` trains on CPU);
* at the paper's size, words/s counted the paper's way (source + target words) and the
  time the paper's 7.5 epochs would take at that speed.

The built-in ``lstm`` is run with ``--decoder-attention 0``, ``--dropout 0`` and
``--decoder-out-embed-dim`` = hidden size (no extra projection). Its input feeding can
NOT be turned off by a flag: ``LSTMDecoder`` sizes its first layer ``embed_dim +
hidden_size`` whenever there is an encoder and, with attention off, concatenates the
previous step's top-layer hidden state (zeros at the first step) to every input
embedding. So the built-in baseline does slightly more work per decoder step than the
paper's model, and it runs the decoder as a Python loop of ``nn.LSTMCell`` per layer
per time step; this is what users would get by switching ``--arch``.

Usage: ``python scripts/benchmark.py`` (full, 6-10 min on 2 busy cores) or ``--quick`` (< 60 s);
``--profile`` prints torch.profiler tables of training steps (fp32 and bf16) and beam
search instead of benchmarking, and writes them to ``benchmark_profile.md``.
"""
import argparse
import datetime
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from .report import existing_notes, write_device_report, write_report
from ..data.textio import write_text
from ..machine import commit, describe
from .allocator import bench_allocator
from .config import GPU_PRECISIONS, GPU_SIZES, MAIN_JOB, MAIN_JOB_FLAGS, MAIN_JOB_RECIPE, SCALING, SIZES
from .cpu import bench_main_job, bench_scaling, bench_size, mfu_against_run_best
from .cuda import bench_device
from .profiling import profile
from .timing import load1

REPO = Path(__file__).resolve().parents[2]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, < 60 s (used by the tests)")
    p.add_argument("--sizes", help="comma-separated subset of the mode's sizes "
                   f"(full: {','.join(SIZES['full'])}; quick: {','.join(SIZES['quick'])})")
    p.add_argument("--no-scaling", action="store_true", help="skip the length/batch/beam study")
    p.add_argument("--no-main-job", action="store_true",
                   help="skip the small-scale main job's recipe (ours with each speed-up undone)")
    p.add_argument("--no-allocator", action="store_true",
                   help="skip the final fp32 measurements with freed memory kept")
    p.add_argument("--out-dir", default=str(REPO / "results"), help="where benchmark.md/.csv go")
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads (default 1: on a shared 2-core machine two "
                        "OpenMP threads wait on each other whenever another process holds a "
                        "core; 0 = torch's default)")
    p.add_argument("--profile", action="store_true", help="print torch.profiler tables, write them to "
                   "OUT_DIR/benchmark_profile.md and exit")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: training words/s on one GPU at the medium and paper sizes in "
                        "fp32, fp16 and amp, and ours in fp32 with sparse embedding gradients "
                        "(fp32_sparse: its speed and one update against dense gradients), "
                        "written to benchmark_gpu.{md,csv} (issue 7, item 3)")
    p.add_argument("--precisions", default=",".join(GPU_PRECISIONS),
                   help=f"with --device cuda: a subset of {','.join(GPU_PRECISIONS)}")
    a = p.parse_args(argv)
    if a.device == "cuda":
        return main_cuda(a, p, argv)

    if a.threads:
        torch.set_num_threads(a.threads)
    mode = "quick" if a.quick else "full"
    sizes = SIZES[mode]
    names = a.sizes.split(",") if a.sizes else list(sizes)
    for n in names:
        if n not in sizes:
            p.error(f"unknown size {n!r} for {mode} mode; choose from {', '.join(sizes)}")
    out_dir = Path(a.out_dir)

    def log(msg):
        print(msg, flush=True)

    start, t0, load_start = datetime.datetime.now(datetime.timezone.utc), time.time(), load1()
    log(f"machine: {describe()}; torch threads {torch.get_num_threads()}; load {load_start:.2f}")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        if a.profile:
            return write_profile(root, a, names, sizes, mode, start, t0, argv, out_dir, log)
        kept = None
        for i, n in enumerate(names):
            size_rows, k = bench_size(root, n, sizes[n], log, keep=(i == 0))
            rows += size_rows
            kept = kept or k
        if kept and not a.no_scaling:
            setup, trainers, _ = kept
            rows += bench_scaling(names[0], sizes[names[0]], SCALING[mode], setup, trainers, log)
        kept = None
        gc.collect()
        if not a.no_main_job:
            rows += bench_main_job(root, MAIN_JOB[mode], log)
            gc.collect()
        if not a.no_allocator:
            rows += bench_allocator(root, names, sizes, log)
    mfu_against_run_best(rows)

    def span(key, precision):
        got = [r[key] for r in rows if r.get(key) and r.get("precision") == precision]
        return f"{min(got):.0f} to {max(got):.0f}" if got else "n/a"

    meta = dict(run_meta(start, t0, argv), threads=torch.get_num_threads(), mode=mode,
                load_start=load_start, load_end=load1(),
                mm_wall=span("mm_gflop_per_s", "fp32"), mm_cpu=span("mm_gflop_per_cpu_s", "fp32"),
                mm_bf16=span("mm_gflop_per_cpu_s", "bf16"),
                maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, sizes=names)
    write_report(out_dir, rows, meta, existing_notes(out_dir / "benchmark.md"))
    log(f"wrote {out_dir / 'benchmark.md'} and {out_dir / 'benchmark.csv'} in {time.time() - t0:.0f} s")
    return 0


def write_profile(root, a, names, sizes, mode, start, t0, argv, out_dir, log):
    """``--profile``: the tables of each size (fp32 and bf16) and of the small-scale main
    job's recipe, printed and written to benchmark_profile.md (the notes quote it)."""
    lines = []

    def both(msg):
        lines.append(msg)
        log(msg)
    for n in names:
        profile(root, n, sizes[n], both)
    if not a.no_main_job:
        profile(root, "main_job", MAIN_JOB[mode], both, extra=MAIN_JOB_FLAGS, recipe=MAIN_JOB_RECIPE)
    meta = run_meta(start, t0, argv)
    head = ["# Profiles of a training step (torch.profiler, CPU)", "",
            f"Generated by `{meta['command']}` from commit {commit()}; machine: {meta['machine']}; "
            f"torch threads {torch.get_num_threads()}; run {meta['start']} to {meta['end']} UTC "
            f"({meta['wall']:.0f} s). Self CPU time per op, sorted; the first line of each "
            "step splits it into matrix multiplies and the rest.", "", "```"]
    write_text(str(out_dir / "benchmark_profile.md"), "\n".join(head + lines + ["```", ""]))
    log(f"wrote {out_dir / 'benchmark_profile.md'}")
    return 0


def run_meta(start, t0, argv):
    """What both reports say about the run: machine, start/end (UTC), wall time, command."""
    return dict(machine=describe(), start=start.strftime("%Y-%m-%d %H:%M"),
                end=datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M"),
                wall=time.time() - t0,
                command=" ".join(["python scripts/benchmark.py",
                                  *(argv if argv is not None else sys.argv[1:])]))


def main_cuda(a, p, argv):
    if not torch.cuda.is_available():
        p.error("--device cuda: torch sees no CUDA device here (torch.cuda.is_available() is False)")
    precisions = a.precisions.split(",")
    bad = [x for x in precisions if x not in GPU_PRECISIONS]
    names = a.sizes.split(",") if a.sizes else list(GPU_SIZES)
    bad += [x for x in names if x not in GPU_SIZES]
    if bad:
        p.error(f"unknown size or precision {bad}: sizes {list(GPU_SIZES)}, precisions {list(GPU_PRECISIONS)}")
    start, t0 = datetime.datetime.now(datetime.timezone.utc), time.time()
    with tempfile.TemporaryDirectory() as root:
        rows = bench_device(root, names, GPU_SIZES, precisions, lambda msg: print(msg, flush=True))
    write_device_report(Path(a.out_dir), rows, run_meta(start, t0, argv))
    print(f"wrote {Path(a.out_dir) / 'benchmark_gpu.md'}", flush=True)
    return 0
