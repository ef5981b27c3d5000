"""The CPU measurements: training and generation at each size, how time grows with
sentence length, batch size and beam size, and the small-scale main job's own recipe."""
import ctypes
import gc

import torch

from .config import AB_KINDS, MAIN_JOB_AB, MAIN_JOB_FLAGS, MAIN_JOB_RECIPE, MODELS
from .fairseq_setup import Setup
from .timing import (base_row, current_rss, load1, matmul_peak, mean_step_flops, rates, rss_peak,
                     time_generate, time_train, train_flops)


def train_row(kind, size_name, size, model, st, samples, pad, peak, log, mem, **extra):
    """The CSV row (and log line) of one model's timed steps; ``peak``: the (wall, CPU)
    torch.mm FLOP/s of its precision, the MFU denominator; ``mem``: (peak RSS, its growth)."""
    flops = mean_step_flops(model, size, samples, st["steps"], pad)
    gfs, gfs_c = flops * st["steps"] / st["wall"] / 1e9, flops * st["steps"] / st["cpu"] / 1e9
    row = base_row(kind, size_name, model, size, batch=size["batch"], src_len=size["length"],
                   tgt_len=size["length"], **rates(st),
                   gflop_per_step=round(flops / 1e9, 2), gflop_per_s=round(gfs, 2),
                   gflop_per_cpu_s=round(gfs_c, 2),
                   mfu_wall=round(gfs * 1e9 / peak[0], 4), mfu_cpu=round(gfs_c * 1e9 / peak[1], 4),
                   mm_gflop_per_s=round(peak[0] / 1e9, 1), mm_gflop_per_cpu_s=round(peak[1] / 1e9, 1),
                   peak_rss_mb=round(mem[0] / 2**20), rss_delta_mb=round(mem[1] / 2**20), **extra)
    log(f"  {kind} {model:15s} {row['words_per_s']:8.0f} words/s ({row['words_per_cpu_s']:.0f} "
        f"per CPU-s)  {row['ms_per_step']:7.0f} ms/step  MFU {row['mfu_cpu']:6.1%} (CPU time) "
        f"{row['mfu_wall']:6.1%} (wall)  peak RSS {row['peak_rss_mb']} MB (+{row['rss_delta_mb']})")
    return row


def train_samples(setup, size):
    return [setup.batch(size["batch"], size["length"], torch.Generator().manual_seed(i))
            for i in range(3)]


def measure_training(kind, size_name, size, setup, samples, log, bf16=False, variants=None):
    """CSV rows of both models' (or ``variants``': {label: (kind, model, Setup.trainer's
    keywords)}) timed steps, the trainers (None at the paper size) and the models. The
    paper size runs one model at a time (two 384M-parameter models plus gradients would
    double the memory), the others interleave their steps."""
    variants = variants or {m: (kind, m, {}) for m in MODELS}
    dtype = torch.bfloat16 if bf16 else torch.float32
    peak_before = matmul_peak(dtype=dtype)
    log(f"[{size_name}] {kind}: {size['layers']}x{size['hidden']}, vocab {size['src_vocab']}/"
        f"{size['tgt_vocab']}, batch {size['batch']} x ~{size['length']} words; {str(dtype)[6:]} torch.mm "
        f"{peak_before[0] / 1e9:.0f} GFLOP/s wall, {peak_before[1] / 1e9:.0f} per CPU-s; "
        f"load {load1():.2f}")
    together = size["hidden"] < 1000
    stats, mem, models = {}, {}, {}
    for group in [list(variants)] if together else [[v] for v in variants]:
        gc.collect()
        rss0 = current_rss()
        trainers = {v: setup.trainer(variants[v][1], size["batch"], bf16, **variants[v][2]) for v in group}
        with rss_peak() as peak_rss:
            stats.update(time_train(trainers, samples, size["rounds"], size["steps"]))
        mem.update({v: (peak_rss[0], peak_rss[0] - rss0) for v in group})
        models.update({v: tr.model for v, tr in trainers.items()})
        if not together:  # keep the model only, without its gradients
            for p in models[group[0]].parameters():
                p.grad = None
            trainers = None
    after = matmul_peak(dtype=dtype)  # the MFU denominator: the rates before and after, averaged
    peak = ((peak_before[0] + after[0]) / 2, (peak_before[1] + after[1]) / 2)
    rows = [train_row(k, size_name, size, m, stats[v], samples, setup.tgt_dict.pad(), peak, log, mem[v],
                      precision="bf16" if bf16 else "fp32") for v, (k, m, _) in variants.items()]
    return rows, trainers, models


def gen_rows(kind, size_name, size, res, batch, length, beam, reps, per_step=False):
    """CSV rows of one interleaved generation measurement (time_generate's result);
    ``per_step``: also the time per decoder step (``length`` words + EOS)."""
    rows = []
    for m in MODELS:
        r = res[m]
        extra = dict(ms_per_step=round(1000 * r["wall"] / (length + 1), 2),
                     cpu_ms_per_step=round(1000 * r["cpu"] / (length + 1), 2)) if per_step else {}
        rows.append(base_row(kind, size_name, m, size, batch=batch, src_len=length, tgt_len=length,
                             beam=beam, steps=reps, wall_s=round(r["wall"], 3), cpu_s=round(r["cpu"], 3),
                             sents_per_s=round(r["sps"], 2), sents_per_cpu_s=round(r["sps_cpu"], 2),
                             **extra))
    return rows


def bench_size(root, size_name, size, log, keep=False):
    """Training (fp32, then bf16 autocast) + generation for both models at one size: CSV
    rows, the setup and, with ``keep``, the fp32 trainers (for bench_scaling)."""
    setup = Setup(root, size)
    samples = train_samples(setup, size)
    rows, trainers, models = measure_training("train", size_name, size, setup, samples, log)
    # ours again with one piece of its recipe back to fairseq's: what each piece gives
    for kind, recipe in AB_KINDS.items():
        rows += measure_training(kind, size_name, size, setup, samples, log,
                                 variants={kind: (kind, "sutskever_lstm", dict(recipe=recipe))})[0]
    length, reps = size["length"], size.get("gen_reps", 2)
    gsample = setup.batch(size["gen_batch"], length, torch.Generator().manual_seed(99))
    for beam in (1, 12):
        res = time_generate(models, setup.tgt_dict, gsample, beam, length, reps)
        rows += gen_rows("generate", size_name, size, res, size["gen_batch"], length, beam, reps)
        log(f"  beam {beam:2d}: " + "  ".join(
            f"{m} {res[m]['sps']:.1f} sent/s ({res[m]['sps_cpu']:.1f} per CPU-s)" for m in MODELS))
    del models
    if not keep:
        trainers = None
    gc.collect()
    rows += measure_training("train_bf16", size_name, size, setup, samples, log, bf16=True)[0]
    gc.collect()
    return rows, setup, trainers


def bench_scaling(size_name, size, sc, setup, trainers, log):
    """Time per training step vs sentence length and batch size; generation time vs beam.
    Reuses the (warm) trainers of the size's main measurement; one step per point."""
    rows = []
    log(f"[scaling] at {size_name}")
    pad = setup.tgt_dict.pad()
    for kind, points in (("scale_length", [(sc["len_batch"], L) for L in sc["lengths"]]),
                         ("scale_batch", [(b, sc["batch_length"]) for b in sc["batches"]])):
        for bsz, length in points:
            s = [setup.batch(bsz, length)]
            stats = time_train(trainers, s, 1, 1, warmup=False)
            for m, st in stats.items():
                rows.append(base_row(kind, size_name, m, size, batch=bsz, src_len=length,
                                     tgt_len=length, **rates(st),
                                     gflop_per_step=round(train_flops(m, size, s[0], pad) / 1e9, 2)))
            log(f"  {kind} batch {bsz:4d} x {length:3d} words: " + "  ".join(
                f"{m} {1000 * st['wall']:.0f} ms ({1000 * st['cpu']:.0f} CPU)" for m, st in stats.items()))
    models = {m: tr.model for m, tr in trainers.items()}
    gsample = setup.batch(sc["beam_batch"], sc["beam_length"], torch.Generator().manual_seed(7))
    for beam in sc["beams"]:
        res = time_generate(models, setup.tgt_dict, gsample, beam, sc["beam_length"], 1,
                            warmup=beam == sc["beams"][0])
        rows += gen_rows("scale_beam", size_name, size, res, sc["beam_batch"], sc["beam_length"], beam, 1,
                         per_step=True)
        log(f"  beam {beam:3d}: " + "  ".join(f"{m} {res[m]['sps']:.1f} sent/s" for m in MODELS))
    return rows


def mfu_against_run_best(rows):
    """MFU over the best torch.mm rate of the whole run (per precision), not over the
    rate measured next to each measurement: the same CPU's mm rate moves ~10% between
    measurements, and the best is the conservative denominator. The neighbouring one is
    kept as mfu_*_local."""
    for precision in ("fp32", "bf16"):
        rs = [r for r in rows if r.get("precision") == precision and r.get("mm_gflop_per_cpu_s")]
        if not rs:
            continue
        best_w = max(r["mm_gflop_per_s"] for r in rs)
        best_c = max(r["mm_gflop_per_cpu_s"] for r in rs)
        for r in rs:
            r["mfu_wall_local"], r["mfu_cpu_local"] = r["mfu_wall"], r["mfu_cpu"]
            r["mfu_wall"] = round(r["gflop_per_s"] / best_w, 4)
            r["mfu_cpu"] = round(r["gflop_per_cpu_s"] / best_c, 4)


def bench_main_job(root, size, log):
    """The small-scale main job's recipe (config.MAIN_JOB), fp32 and bf16: ours as the
    main job trains it, ours with each speed-up of MAIN_JOB_AB undone, and the built-in,
    all four interleaved step by step (each ratio is side by side)."""
    setup = Setup(root, size)
    samples = train_samples(setup, size)
    variants = {"main_job": ("main_job", "sutskever_lstm", dict(extra=MAIN_JOB_FLAGS, recipe=MAIN_JOB_RECIPE)),
                **{k: (k, "sutskever_lstm", dict(extra=MAIN_JOB_FLAGS, recipe=recipe, torch_dropout=torch_dropout))
                   for k, (recipe, torch_dropout) in MAIN_JOB_AB.items()},
                "main_job_builtin": ("main_job", "builtin_lstm", dict(extra=MAIN_JOB_FLAGS))}
    rows = []
    for bf16 in (False, True):
        rows += measure_training("main_job", "main_job", size, setup, samples, log, bf16, variants=variants)[0]
        gc.collect()
    return rows


def bench_allocator(root, names, sizes, log):
    """The fp32 training of every size again with freed memory kept, as
    scripts/reproduce_table1.sh runs its CPU trainings (MALLOC_MMAP_MAX_=0): glibc serves
    every allocation from the heap and never gives freed memory back, so the big per-step
    tensors (logits, log-probs and their gradients) reuse mapped pages instead of
    page-faulting fresh zeroed ones in at every step. Process-wide and one-way: run last."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
        kept = bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    except (OSError, AttributeError):
        kept = False
    if not kept:
        log("[allocator] mallopt not available (not glibc): skipped")
        return []
    log("[allocator] freed memory kept in the heap from now on (MALLOC_MMAP_MAX_=0)")
    rows = []
    for n in names:
        setup = Setup(root, sizes[n])
        rows += measure_training("train_keep_memory", n, sizes[n], setup, train_samples(setup, sizes[n]),
                                 log)[0]
        gc.collect()
    for row in rows:
        row["allocator"] = "MALLOC_MMAP_MAX_=0"
    return rows
