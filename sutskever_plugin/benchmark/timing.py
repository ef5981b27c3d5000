"""What the benchmark measures with: the timed loops (training steps and beam search, the
models interleaved), CPU seconds, load, peak RSS, FLOPs counted and the machine's matmul
rate (the two terms of model FLOP utilisation), and the CSV row every measurement starts from."""
import os
import threading
import time
from contextlib import contextmanager

import torch
from fairseq.sequence_generator import SequenceGenerator


# user + system CPU seconds of this process so far: what a one-thread training spends of
# its budget, whoever else shares the machine (the timed loops; scripts/tune_small.py)
cpu_seconds = time.process_time


def load1():
    """The 1-minute load average, kept beside every row: the machine may be shared."""
    return os.getloadavg()[0]


def time_train(trainers, samples, rounds, steps, warmup=True):
    """Warm up each trainer, then interleave ``steps`` timed updates per model per round:
    per model wall and CPU seconds (this process, all threads), words and steps."""
    stats = {m: dict(wall=0.0, cpu=0.0, words=0, src_words=0, steps=0) for m in trainers}
    cuda = any(tr.cuda for tr in trainers.values())
    sync = torch.cuda.synchronize if cuda else (lambda: None)  # time the GPU's work, not its queueing
    if warmup:
        for m, tr in trainers.items():  # builds the optimizer, first-call allocations
            tr.train_step([samples[0]])
    sync()
    k = 0
    for _ in range(rounds):
        for m, tr in trainers.items():
            for s in range(steps):
                sample = samples[(k + s) % len(samples)]
                w, c = time.perf_counter(), cpu_seconds()
                tr.train_step([sample])
                sync()
                st = stats[m]
                st["wall"] += time.perf_counter() - w
                st["cpu"] += cpu_seconds() - c
                st["words"] += int(sample["ntokens"])
                st["src_words"] += int(sample["net_input"]["src_lengths"].sum())
                st["steps"] += 1
        k += steps
    return stats


def rates(st):
    """The CSV's speed columns of one model's timed steps (time_train's stats)."""
    n, words, both = st["steps"], st["words"], st["words"] + st["src_words"]
    return dict(steps=n, wall_s=round(st["wall"], 3), cpu_s=round(st["cpu"], 3),
                words_per_s=round(words / st["wall"], 1), words_per_cpu_s=round(words / st["cpu"], 1),
                src_tgt_words_per_s=round(both / st["wall"], 1),
                src_tgt_words_per_cpu_s=round(both / st["cpu"], 1),
                ms_per_step=round(1000 * st["wall"] / n, 1), cpu_ms_per_step=round(1000 * st["cpu"] / n, 1))


def generator(model, tgt_dict, beam, length):
    # exactly ``length`` words + EOS for every hypothesis, for both models
    return SequenceGenerator([model], tgt_dict, beam_size=beam, max_len_a=0,
                             max_len_b=length, min_len=length)


def time_generate(models, tgt_dict, sample, beam, length, reps, warmup=True):
    """Sentences per wall second and per CPU second for each model, interleaved."""
    wall = {m: 0.0 for m in models}
    cpu = {m: 0.0 for m in models}
    gens = {m: generator(mod, tgt_dict, beam, length) for m, mod in models.items()}
    for m, mod in models.items():
        mod.eval()
        if warmup:
            gens[m].generate([mod], sample)
    for _ in range(reps):
        for m, mod in models.items():
            w, c = time.perf_counter(), cpu_seconds()
            hyps = gens[m].generate([mod], sample)
            wall[m] += time.perf_counter() - w
            cpu[m] += cpu_seconds() - c
            assert len(hyps) == sample["nsentences"]
    n = sample["nsentences"] * reps
    return {m: dict(wall=wall[m], cpu=cpu[m], sps=n / wall[m], sps_cpu=n / cpu[m]) for m in models}


def base_row(kind, size_name, model, size, **kw):
    return dict(kind=kind, size=size_name, model=model, layers=size["layers"],
                hidden=size["hidden"], src_vocab=size["src_vocab"], tgt_vocab=size["tgt_vocab"],
                **kw, load1=round(load1(), 2))


def matmul_peak(n=2048, seconds=1.5, dtype=torch.float32):
    """FLOP/s of a large torch.mm (fp32, or bf16 for the bf16 rows) on this machine now:
    (per wall second, per CPU second of this process). Each is the best of several ~0.3 s
    windows."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    c = torch.empty(n, n, dtype=dtype)
    torch.mm(a, b, out=c)
    best_w = best_c = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        w, t, k = time.perf_counter(), cpu_seconds(), 0
        while time.perf_counter() - w < 0.3:
            torch.mm(a, b, out=c)
            k += 1
        fl = 2 * n ** 3 * k
        best_w = max(best_w, fl / (time.perf_counter() - w))
        best_c = max(best_c, fl / max(cpu_seconds() - t, 1e-9))
    return best_w, best_c


def cuda_matmul_peak(dtype, n=8192, reps=20):
    """FLOP/s of a large torch.mm on the GPU in ``dtype`` (fp32 without TF32, as torch's
    default), timed between synchronisations."""
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    torch.mm(a, b)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    torch.cuda.synchronize()
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def train_flops(model_name, size, sample, pad):
    """Matmul FLOPs of one training step (forward + backward = 3x forward) on real (non-pad)
    tokens; embedding look-ups, element-wise gate math and the optimizer are not counted."""
    L, H, V = size["layers"], size["hidden"], size["tgt_vocab"]
    E = size.get("embed", H)
    src_tok = int(sample["net_input"]["src_tokens"].ne(pad).sum())
    tgt_tok = int(sample["target"].ne(pad).sum())
    lstm = 8 * (E + H) * H + 8 * (H + H) * H * (L - 1)  # per token; layer 0 reads the embedding
    dec_extra = 8 * H * H if model_name == "builtin_lstm" else 0  # input feeding in layer 0
    fwd = src_tok * lstm + tgt_tok * (lstm + dec_extra + 2 * H * V)
    return 3 * fwd


def mean_step_flops(model_name, size, samples, steps, pad):
    """Mean matmul FLOPs of the ``steps`` timed steps (time_train cycles through samples)."""
    return sum(train_flops(model_name, size, samples[i % len(samples)], pad)
               for i in range(steps)) / steps


def current_rss():
    """This process' resident set size in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def rss_peak(interval=0.005):
    """The peak of this process' resident set size (``[bytes]``), sampled every few ms in a
    background thread while in the ``with`` block: torch's CPU allocator keeps no statistics."""
    peak, stop = [current_rss()], threading.Event()

    def sample():
        while not stop.wait(interval):
            peak[0] = max(peak[0], current_rss())
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        peak[0] = max(peak[0], current_rss())
