"""The CPU measurements: training (fp32, bf16 autocast, ours with each piece of its
recipe back to fairseq's) and generation at each size, how time grows with sentence
length, batch size and beam size, and the small-scale main job's own recipe."""
import gc

import torch

from .config import AB_KINDS, CPU_RECIPE, MAIN_JOB_AB, MAIN_JOB_FLAGS, MAIN_JOB_RECIPE, MODELS
from .fairseq_setup import Setup
from .flops import matmul_peak, mean_step_flops, train_flops
from .memory import RssSampler, current_rss
from .timing import base_row, load1, time_generate, time_train


def train_rows(kind, size_name, size, stats, samples, pad, peak, bsz, length, mem=None, **extra):
    """CSV rows (and log lines) for one interleaved training measurement."""
    rows, lines = [], []
    peak_w, peak_c = peak
    for m, st in stats.items():
        n = st["steps"]
        flops = mean_step_flops(m, size, samples, n, pad)
        gfs, gfs_c = flops * n / st["wall"] / 1e9, flops * n / st["cpu"] / 1e9
        row = base_row(kind, size_name, m, size, batch=bsz, src_len=length, tgt_len=length,
                       steps=n, wall_s=round(st["wall"], 3), cpu_s=round(st["cpu"], 3),
                       words_per_s=round(st["words"] / st["wall"], 1),
                       words_per_cpu_s=round(st["words"] / st["cpu"], 1),
                       src_tgt_words_per_s=round((st["words"] + st["src_words"]) / st["wall"], 1),
                       src_tgt_words_per_cpu_s=round((st["words"] + st["src_words"]) / st["cpu"], 1),
                       ms_per_step=round(1000 * st["wall"] / n, 1),
                       cpu_ms_per_step=round(1000 * st["cpu"] / n, 1),
                       gflop_per_step=round(flops / 1e9, 2), gflop_per_s=round(gfs, 2),
                       gflop_per_cpu_s=round(gfs_c, 2),
                       mfu_wall=round(gfs * 1e9 / peak_w, 4), mfu_cpu=round(gfs_c * 1e9 / peak_c, 4),
                       mm_gflop_per_s=round(peak_w / 1e9, 1), mm_gflop_per_cpu_s=round(peak_c / 1e9, 1),
                       **extra)
        if mem is not None:
            row.update(peak_rss_mb=round(mem[m][0] / 2**20), rss_delta_mb=round(mem[m][1] / 2**20))
        rows.append(row)
        lines.append(f"  {kind} {m:15s} {row['words_per_s']:8.0f} words/s ({row['words_per_cpu_s']:.0f} "
                     f"per CPU-s)  {row['ms_per_step']:7.0f} ms/step  MFU {row['mfu_cpu']:6.1%} (CPU time) "
                     f"{row['mfu_wall']:6.1%} (wall)"
                     + (f"  peak RSS {row['peak_rss_mb']} MB (+{row['rss_delta_mb']})" if mem else ""))
    return rows, lines


def train_samples(setup, size):
    """The size's timed training batches (the same ones for every measurement)."""
    return [setup.batch(size["batch"], size["length"], torch.Generator().manual_seed(i))
            for i in range(3)]


def measure_training(kind, size_name, size, setup, samples, log, bf16=False,
                     recipe=CPU_RECIPE, names=MODELS):
    """Timed training steps of both models (or ``names``) at one size, as CSV rows; also
    returns the trainers (small and medium, where both models are alive together) or None,
    and the models. Small and medium interleave the models' steps; the paper size runs one
    model at a time (two 384M-parameter models plus gradients would double the memory)."""
    bsz, length = size["batch"], size["length"]
    dtype = torch.bfloat16 if bf16 else torch.float32
    peak_before = matmul_peak(dtype=dtype)
    log(f"[{size_name}] {kind}: {size['layers']}x{size['hidden']}, vocab {size['src_vocab']}/"
        f"{size['tgt_vocab']}, batch {bsz} x ~{length} words; {str(dtype)[6:]} torch.mm "
        f"{peak_before[0] / 1e9:.0f} GFLOP/s wall, {peak_before[1] / 1e9:.0f} per CPU-s; "
        f"load {load1():.2f}")
    mem, trainers = {}, None
    if size["hidden"] < 1000:
        rss0 = current_rss()
        trainers = {m: setup.trainer(m, bsz, bf16, recipe=recipe) for m in names}
        with RssSampler() as sampler:
            stats = time_train(trainers, samples, size["rounds"], size["steps"])
        mem = {m: (sampler.peak, sampler.peak - rss0) for m in names}
        models = {m: tr.model for m, tr in trainers.items()}
    else:
        stats, models = {}, {}
        for m in names:
            gc.collect()
            rss0 = current_rss()
            tr = setup.trainer(m, bsz, bf16, recipe=recipe)
            with RssSampler() as sampler:
                stats.update(time_train({m: tr}, samples, size["rounds"], size["steps"]))
            mem[m] = (sampler.peak, sampler.peak - rss0)
            models[m] = tr.model
            del tr
            for p in models[m].parameters():
                p.grad = None
            gc.collect()
    peak_after = matmul_peak(dtype=dtype)
    peak = ((peak_before[0] + peak_after[0]) / 2, (peak_before[1] + peak_after[1]) / 2)
    rows, lines = train_rows(kind, size_name, size, stats, samples, setup.tgt_dict.pad(), peak,
                             bsz, length, mem, precision="bf16" if bf16 else "fp32")
    for line in lines:
        log(line)
    return rows, trainers, models


def bench_size(root, size_name, size, log, keep=False):
    """Training (fp32, then bf16 autocast) + generation for both models at one size.
    Returns CSV rows and, with ``keep`` (sizes where both models fit together), the
    setup, fp32 trainers and batches for reuse."""
    setup = Setup(root, size)
    samples = train_samples(setup, size)
    length = size["length"]
    rows, trainers, models = measure_training("train", size_name, size, setup, samples, log)
    # ours again with one piece of its recipe back to fairseq's: what each piece gives
    for kind, recipe in AB_KINDS.items():
        r, _, ab = measure_training(kind, size_name, size, setup, samples, log, recipe=recipe,
                                    names=("sutskever_lstm",))
        rows += r
        del ab
    # generation
    gen_length = length
    gsample = setup.batch(size["gen_batch"], gen_length, torch.Generator().manual_seed(99))
    for beam in (1, 12):
        reps = size.get("gen_reps", 2)
        res = time_generate(models, setup.tgt_dict, gsample, beam, gen_length, reps)
        for m in MODELS:
            rows.append(base_row("generate", size_name, m, size, batch=size["gen_batch"],
                                 src_len=gen_length, tgt_len=gen_length, beam=beam, steps=reps,
                                 wall_s=round(res[m]["wall"], 3), cpu_s=round(res[m]["cpu"], 3),
                                 sents_per_s=round(res[m]["sps"], 2),
                                 sents_per_cpu_s=round(res[m]["sps_cpu"], 2)))
        log(f"  beam {beam:2d}: " + "  ".join(
            f"{m} {res[m]['sps']:.1f} sent/s ({res[m]['sps_cpu']:.1f} per CPU-s)" for m in MODELS))
    del models
    if not keep:
        trainers = None
    gc.collect()
    r, bf16_trainers, _ = measure_training("train_bf16", size_name, size, setup, samples, log,
                                           bf16=True)
    rows += r
    del bf16_trainers, _
    gc.collect()
    return rows, (setup, trainers, samples) if keep else None


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
                                     tgt_len=length, steps=1, wall_s=round(st["wall"], 3),
                                     cpu_s=round(st["cpu"], 3),
                                     ms_per_step=round(1000 * st["wall"], 1),
                                     cpu_ms_per_step=round(1000 * st["cpu"], 1),
                                     words_per_s=round(st["words"] / st["wall"], 1),
                                     words_per_cpu_s=round(st["words"] / st["cpu"], 1),
                                     gflop_per_step=round(train_flops(m, size, s[0], pad) / 1e9, 2)))
            log(f"  {kind} batch {bsz:4d} x {length:3d} words: " + "  ".join(
                f"{m} {1000 * st['wall']:.0f} ms ({1000 * st['cpu']:.0f} CPU)" for m, st in stats.items()))
    models = {m: tr.model for m, tr in trainers.items()}
    gsample = setup.batch(sc["beam_batch"], sc["beam_length"], torch.Generator().manual_seed(7))
    for beam in sc["beams"]:
        res = time_generate(models, setup.tgt_dict, gsample, beam, sc["beam_length"], 1,
                            warmup=beam == sc["beams"][0])
        for m in MODELS:
            rows.append(base_row("scale_beam", size_name, m, size, batch=sc["beam_batch"],
                                 src_len=sc["beam_length"], tgt_len=sc["beam_length"], beam=beam,
                                 steps=1, wall_s=round(res[m]["wall"], 3), cpu_s=round(res[m]["cpu"], 3),
                                 sents_per_s=round(res[m]["sps"], 2),
                                 sents_per_cpu_s=round(res[m]["sps_cpu"], 2),
                                 ms_per_step=round(1000 * res[m]["wall"] / (sc["beam_length"] + 1), 2),
                                 cpu_ms_per_step=round(1000 * res[m]["cpu"] / (sc["beam_length"] + 1), 2)))
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
    rows = []
    for bf16 in (False, True):
        dtype = torch.bfloat16 if bf16 else torch.float32
        peak_before = matmul_peak(dtype=dtype)
        log(f"[main job recipe] {size['layers']}x{size['hidden']}, {size['embed']}-d embeddings, "
            f"dropout {size['dropout']}, vocab {size['src_vocab']}/{size['tgt_vocab']}, "
            f"batch {size['batch']} x ~{size['length']} words, {str(dtype)[6:]}; load {load1():.2f}")
        variants = {"main_job": ("sutskever_lstm", MAIN_JOB_RECIPE, False),
                    **{k: ("sutskever_lstm", *v) for k, v in MAIN_JOB_AB.items()},
                    "main_job_builtin": ("builtin_lstm", (), False)}
        trainers = {k: setup.trainer(m, size["batch"], bf16, extra=MAIN_JOB_FLAGS, recipe=recipe,
                                     torch_dropout=torch_dropout)
                    for k, (m, recipe, torch_dropout) in variants.items()}
        stats = time_train(trainers, samples, size["rounds"], size["steps"])
        peak_after = matmul_peak(dtype=dtype)
        peak = ((peak_before[0] + peak_after[0]) / 2, (peak_before[1] + peak_after[1]) / 2)
        for k, (m, _, _) in variants.items():
            kind = "main_job" if k == "main_job_builtin" else k
            r, lines = train_rows(kind, "main_job", size, {m: stats[k]}, samples,
                                  setup.tgt_dict.pad(), peak, size["batch"], size["length"],
                                  precision="bf16" if bf16 else "fp32")
            rows += r
            for line in lines:
                log(line.replace(f"  {kind} ", f"  {k} ", 1))
        del trainers
        gc.collect()
    return rows
