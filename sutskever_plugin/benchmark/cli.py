#!/usr/bin/env python
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
  ours, the same autocast wrapped around the built-in's forward), against the bf16
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
``--profile`` prints torch.profiler tables for a few steps instead of benchmarking.
"""
import argparse
import csv
import datetime
import gc
import io
import logging
import os
import resource
import sys
import tempfile
import threading
import time
import warnings
from contextlib import redirect_stdout
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "sutskever_plugin"

warnings.filterwarnings("ignore", category=UserWarning)  # hydra / omegaconf deprecations
warnings.filterwarnings("ignore", category=FutureWarning)  # torch.cuda.amp in fairseq
logging.basicConfig(level=logging.WARNING)
for name in ("fairseq", "fairseq.tasks", "fairseq.tasks.text_to_speech", "fairseq.utils"):
    logging.getLogger(name).setLevel(logging.ERROR)

import torch  # noqa: E402

from fairseq import options, tasks  # noqa: E402
from fairseq.data import LanguagePairDataset  # noqa: E402
from fairseq.dataclass.utils import convert_namespace_to_omegaconf  # noqa: E402
from fairseq.sequence_generator import SequenceGenerator  # noqa: E402
from fairseq.trainer import Trainer  # noqa: E402

import sutskever_plugin  # noqa: E402,F401
from sutskever_plugin.reporting.machine import describe  # noqa: E402

MODELS = ("sutskever_lstm", "builtin_lstm")
# On CPU ours trains as the plugin's paper recipe does (reproduce_table1.sh): the paper's
# SGD from the plugin, which takes sparse embedding gradients, and cross-entropy computed
# inside the output softmax (the same updates). The built-in keeps fairseq's sgd and
# cross_entropy. Ours is also measured with each piece back to fairseq's (AB_KINDS). Not on
# a GPU: fairseq's --fp16 cannot take sparse gradients, and the fused loss is CPU-only.
SPARSE_GRADS = ("--optimizer", "sutskever_sgd", "--sparse-embedding-grads")
FUSED_LOSS = ("--criterion", "sutskever_cross_entropy")
CPU_RECIPE = SPARSE_GRADS + FUSED_LOSS
AB_KINDS = {"train_dense_embed": FUSED_LOSS, "train_stock_loss": SPARSE_GRADS}

# name -> layers, hidden (= embedding) size, source vocab, target vocab,
#         train batch (sentences), train length (words), gen batch (sentences)
SIZES = {
    "full": {
        "small": dict(layers=4, hidden=256, src_vocab=10_000, tgt_vocab=10_000,
                      batch=128, length=20, gen_batch=32, rounds=4, steps=1),
        "medium": dict(layers=4, hidden=500, src_vocab=30_000, tgt_vocab=20_000,
                       batch=128, length=20, gen_batch=32, rounds=3, steps=1),
        # the paper's model: 4 x 1000, 160k / 80k words. Batch 64 instead of the paper's 128
        # and one timed step after one warm-up step per model: a step is ~10 CPU-seconds
        # here, and the matrices are large enough that words/s barely depend on the batch.
        "paper": dict(layers=4, hidden=1000, src_vocab=160_000, tgt_vocab=80_000,
                      batch=64, length=20, gen_batch=8, rounds=1, steps=1, gen_reps=1),
    },
    "quick": {
        "tiny": dict(layers=2, hidden=64, src_vocab=1_000, tgt_vocab=1_000,
                     batch=32, length=10, gen_batch=8, rounds=2, steps=1, gen_reps=1),
        "small-q": dict(layers=4, hidden=128, src_vocab=2_000, tgt_vocab=2_000,
                        batch=32, length=10, gen_batch=8, rounds=2, steps=1, gen_reps=1),
    },
}

# the paper's training set (section 3.2) and recipe (section 3.4)
PAPER_WORDS_PER_EPOCH = 348e6 + 304e6  # French + English words of the 12M sentences
PAPER_EPOCHS = 7.5


def paper_epochs_days(src_tgt_words_per_s):
    """Days the paper's 7.5 epochs over its 652M words would take at this speed."""
    return PAPER_EPOCHS * PAPER_WORDS_PER_EPOCH / src_tgt_words_per_s / 86400

# One CUDA GPU (issue 7, item 3): the paper's batch of 128 sentences, and sentences as long
# as WMT'14's on average ((348M + 304M) words / 12M pairs / 2 sides = 27 words).
GPU_SIZES = {
    "medium": dict(layers=4, hidden=500, src_vocab=30_000, tgt_vocab=20_000,
                   batch=128, length=27, rounds=3, steps=5),
    "paper": dict(layers=4, hidden=1000, src_vocab=160_000, tgt_vocab=80_000,
                  batch=128, length=27, rounds=3, steps=5),
}
# fairseq's own flags per precision on CUDA (its --bf16 means TPU in this fairseq)
GPU_PRECISIONS = {"fp32": (), "fp16": ("--fp16",), "amp": ("--amp",)}

# how time grows: measured at the first size of the mode
SCALING = {
    "full": dict(lengths=(10, 20, 40, 80), batches=(16, 32, 64, 128, 256), beams=(1, 2, 4, 8, 12, 24),
                 len_batch=64, batch_length=20, beam_batch=16, beam_length=20),
    "quick": dict(lengths=(5, 10), batches=(8, 16), beams=(1, 4),
                  len_batch=16, batch_length=8, beam_batch=4, beam_length=8),
}

CSV_FIELDS = ["kind", "size", "model", "precision", "layers", "hidden", "src_vocab", "tgt_vocab",
              "batch", "src_len", "tgt_len", "beam", "allocator", "steps", "wall_s", "cpu_s",
              "words_per_s", "words_per_cpu_s", "src_tgt_words_per_s", "src_tgt_words_per_cpu_s",
              "sents_per_s", "sents_per_cpu_s", "ms_per_step",
              "cpu_ms_per_step", "gflop_per_step", "gflop_per_s", "gflop_per_cpu_s", "mfu_wall",
              "mfu_cpu", "mfu_wall_local", "mfu_cpu_local", "mm_gflop_per_s", "mm_gflop_per_cpu_s",
              "peak_rss_mb", "rss_delta_mb",
              "peak_gpu_mb", "device_name", "paper_epochs_days",
              "load1"]


def load1():
    return os.getloadavg()[0]


# --------------------------------------------------------------------------- memory
class RssSampler:
    """Samples this process' resident set size every few ms in a background thread.

    torch's CPU allocator keeps no statistics, so the peak RSS over the measured steps
    is the honest figure; the delta over the RSS before the model was built is the
    model's own footprint (parameters, gradients, activations) up to allocator slack.
    """

    def __init__(self, interval=0.005):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def rss(self):
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self._page

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(self.interval)

    def __enter__(self):
        self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


def current_rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- peak FLOP/s
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
        w, t, k = time.perf_counter(), time.process_time(), 0
        while time.perf_counter() - w < 0.3:
            torch.mm(a, b, out=c)
            k += 1
        fl = 2 * n ** 3 * k
        best_w = max(best_w, fl / (time.perf_counter() - w))
        best_c = max(best_c, fl / max(time.process_time() - t, 1e-9))
    return best_w, best_c


# --------------------------------------------------------------------------- fairseq setup
def write_dicts(datadir, src_vocab, tgt_vocab):
    """dict.src.txt / dict.tgt.txt with the given sizes (incl. fairseq's 4 specials)."""
    for lang, n in (("src", src_vocab), ("tgt", tgt_vocab)):
        with open(Path(datadir) / f"dict.{lang}.txt", "w") as f:
            for i in range(n - 4):
                f.write(f"w{i} {n - i}\n")


def model_flags(model, size):
    L, H = size["layers"], size["hidden"]
    common = ["--encoder-layers", str(L), "--decoder-layers", str(L),
              "--encoder-embed-dim", str(H), "--decoder-embed-dim", str(H),
              "--encoder-hidden-size", str(H), "--decoder-hidden-size", str(H),
              "--dropout", "0"]
    if model == "sutskever_lstm":
        return ["--arch", "sutskever_lstm", *common]
    return ["--arch", "lstm", *common, "--decoder-attention", "0",
            "--decoder-out-embed-dim", str(H), "--encoder-dropout-in", "0",
            "--encoder-dropout-out", "0", "--decoder-dropout-in", "0",
            "--decoder-dropout-out", "0"]


def make_cfg(datadir, model, size, batch, extra=(), device="cpu"):
    parser = options.get_training_parser()
    argv = [str(datadir), "--user-dir", str(PLUGIN), "--task", "translation",
            "-s", "src", "-t", "tgt", *(["--cpu"] if device == "cpu" else []), "--seed", "1",
            "--optimizer", "sgd", "--lr", "0.7", "--criterion", "cross_entropy",
            "--sentence-avg", "--clip-norm", "5", "--batch-size", str(batch),
            "--disable-validation", "--no-save", "--log-format", "none",
            *model_flags(model, size), *extra]
    with redirect_stdout(io.StringIO()):
        args = options.parse_args_and_arch(parser, argv)
    return convert_namespace_to_omegaconf(args)


class Setup:
    """Task + dictionaries for one vocabulary size; builds models, trainers, batches."""

    def __init__(self, root, size, device="cpu"):
        self.size, self.device = size, device
        self.datadir = Path(root) / f"v{size['src_vocab']}_{size['tgt_vocab']}"
        self.datadir.mkdir(exist_ok=True)
        write_dicts(self.datadir, size["src_vocab"], size["tgt_vocab"])
        cfg = make_cfg(self.datadir, "sutskever_lstm", size, size["batch"])
        self.task = tasks.setup_task(cfg.task)
        self.src_dict, self.tgt_dict = self.task.source_dictionary, self.task.target_dictionary
        assert len(self.src_dict) == size["src_vocab"] and len(self.tgt_dict) == size["tgt_vocab"]

    def trainer(self, model, batch, bf16=False, extra=(), recipe=CPU_RECIPE):
        """A fairseq Trainer for one model. ``bf16``: ours with its --autocast-bf16 flag;
        the built-in (which has no such flag) with the same autocast around its forward,
        so that both run their matmuls in bf16 the same way. ``recipe``: ours' flags on
        CPU. ``extra``: more fairseq flags for both (--fp16, --amp on a GPU)."""
        ours = model == "sutskever_lstm"
        extra = (*extra, *(("--autocast-bf16",) if bf16 and ours else ()),
                 *(recipe if ours and self.device == "cpu" else ()))
        cfg = make_cfg(self.datadir, model, self.size, batch, extra, self.device)
        torch.manual_seed(1)
        m = self.task.build_model(cfg.model)
        if bf16 and model != "sutskever_lstm":
            m.forward = autocast_training_forward(m)
        crit = self.task.build_criterion(cfg.criterion)
        return Trainer(cfg, self.task, m, crit)

    def batch(self, bsz, length, gen=None, jitter=2):
        """One fairseq batch of ``bsz`` pairs of similar length (paper: "batches of 128
        sentences of similar length"): words in [length - jitter, length + jitter], + EOS,
        sources left-padded as fairseq does."""
        gen = gen or torch.Generator().manual_seed(bsz * 1000 + length)
        samples = []
        for d, n in ((self.src_dict, len(self.src_dict)), (self.tgt_dict, len(self.tgt_dict))):
            lens = torch.randint(max(1, length - jitter), length + jitter + 1, (bsz,), generator=gen)
            samples.append([torch.cat([torch.randint(d.nspecial, n, (int(k),), generator=gen),
                                       torch.tensor([d.eos()])]) for k in lens])
        src, tgt = samples
        ds = LanguagePairDataset(src, [len(s) for s in src], self.src_dict,
                                 tgt, [len(t) for t in tgt], self.tgt_dict)
        return ds.collater([ds[i] for i in range(bsz)])


def autocast_training_forward(model):
    """model.forward under CPU bf16 autocast in training mode: what --autocast-bf16 does
    inside sutskever_lstm, applied from outside to the built-in model."""
    forward = model.forward

    def wrapped(*args, **kwargs):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=model.training):
            return forward(*args, **kwargs)
    return wrapped


# --------------------------------------------------------------------------- FLOP count
def train_flops(model_name, size, sample, pad):
    """Matmul FLOPs of one training step (forward + backward = 3x forward), counted
    on real (non-pad) tokens: per token and layer 4 gates x (in + hid) x hid x 2, plus
    the softmax projection hid x V x 2 per target token. Embedding look-ups, element-wise
    gate math and the optimizer are not counted."""
    L, H, V = size["layers"], size["hidden"], size["tgt_vocab"]
    src_tok = int(sample["net_input"]["src_tokens"].ne(pad).sum())
    tgt_tok = int(sample["target"].ne(pad).sum())
    lstm = 8 * (H + H) * H * L  # per token, embedding dim == hidden size
    dec_extra = 8 * H * H if model_name == "builtin_lstm" else 0  # input feeding in layer 0
    fwd = src_tok * lstm + tgt_tok * (lstm + dec_extra + 2 * H * V)
    return 3 * fwd


def mean_step_flops(model_name, size, samples, steps, pad):
    """Mean matmul FLOPs of the ``steps`` timed steps (time_train cycles through samples)."""
    return sum(train_flops(model_name, size, samples[i % len(samples)], pad)
               for i in range(steps)) / steps


# --------------------------------------------------------------------------- measurements
def time_train(trainers, samples, rounds, steps, warmup=True):
    """Warm up each trainer, then interleave ``steps`` timed updates per model per round.

    Returns per model: wall seconds, CPU seconds (this process, all threads), target
    words and number of timed steps."""
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
                w, c = time.perf_counter(), time.process_time()
                tr.train_step([sample])
                sync()
                st = stats[m]
                st["wall"] += time.perf_counter() - w
                st["cpu"] += time.process_time() - c
                st["words"] += int(sample["ntokens"])
                st["src_words"] += int(sample["net_input"]["src_lengths"].sum())
                st["steps"] += 1
        k += steps
    return stats


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
            w, c = time.perf_counter(), time.process_time()
            hyps = gens[m].generate([mod], sample)
            wall[m] += time.perf_counter() - w
            cpu[m] += time.process_time() - c
            assert len(hyps) == sample["nsentences"]
    n = sample["nsentences"] * reps
    return {m: dict(wall=wall[m], cpu=cpu[m], sps=n / wall[m], sps_cpu=n / cpu[m]) for m in models}


def base_row(kind, size_name, model, size, **kw):
    row = dict(kind=kind, size=size_name, model=model, layers=size["layers"],
               hidden=size["hidden"], src_vocab=size["src_vocab"], tgt_vocab=size["tgt_vocab"])
    row.update(kw)
    row["load1"] = round(load1(), 2)
    return row


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


def keep_freed_memory():
    """glibc: serve every allocation from the heap and never give freed memory back, so
    the big per-step tensors (logits, log-probs and their gradients) reuse pages that are
    already mapped instead of page-faulting fresh zeroed ones in at every step. Returns
    False where that is not possible (not glibc). Process-wide and one-way: run last."""
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
        return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    except (OSError, AttributeError):
        return False


def bench_allocator(root, names, sizes, log):
    """The fp32 training measurement of every size again, with freed memory kept (see
    keep_freed_memory): how much of a step is page faults of fresh allocations. This is
    how scripts/reproduce_table1.sh runs its CPU trainings (MALLOC_MMAP_MAX_=0)."""
    if not keep_freed_memory():
        log("[allocator] mallopt not available (not glibc): skipped")
        return []
    log("[allocator] freed memory kept in the heap from now on (MALLOC_MMAP_MAX_=0)")
    rows = []
    for n in names:
        setup = Setup(root, sizes[n])
        r, trainers, models = measure_training("train_keep_memory", n, sizes[n], setup,
                                               train_samples(setup, sizes[n]), log)
        for row in r:
            row["allocator"] = "MALLOC_MMAP_MAX_=0"
        rows += r
        del trainers, models
        gc.collect()
    return rows


# --------------------------------------------------------------------------- GPU
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


def bench_device(root, names, sizes, precisions, log, device="cuda"):
    """Training words/s of both models on one device per precision, with fairseq's own
    precision flags; the paper's speed measure (source + target words/s) and what the
    paper's 7.5 epochs of 652M words would take at it. Wall time (a GPU's work is not
    this process' CPU time); memory = torch.cuda.max_memory_allocated on CUDA."""
    rows = []
    cuda = device == "cuda"
    name = torch.cuda.get_device_name(0) if cuda else describe()
    for n in names:
        size = sizes[n]
        setup = Setup(root, size, device)
        samples = train_samples(setup, size)
        pad = setup.tgt_dict.pad()
        for prec in precisions:
            mm_dtype = torch.float32 if prec == "fp32" else torch.float16
            peak = cuda_matmul_peak(mm_dtype) if cuda else matmul_peak(dtype=mm_dtype)[0]
            for m in MODELS:  # one model at a time: two paper-size models need twice the memory
                gc.collect()
                if cuda:
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                tr = setup.trainer(m, size["batch"], extra=GPU_PRECISIONS[prec])
                st = time_train({m: tr}, samples, size["rounds"], size["steps"])[m]
                del tr
                flops = mean_step_flops(m, size, samples, st["steps"], pad)
                both = (st["words"] + st["src_words"]) / st["wall"]
                row = base_row("device_train", n, m, size, precision=prec, batch=size["batch"],
                               src_len=size["length"], tgt_len=size["length"], steps=st["steps"],
                               wall_s=round(st["wall"], 3),
                               words_per_s=round(st["words"] / st["wall"], 1),
                               src_tgt_words_per_s=round(both, 1),
                               ms_per_step=round(1000 * st["wall"] / st["steps"], 1),
                               gflop_per_step=round(flops / 1e9, 2),
                               gflop_per_s=round(flops * st["steps"] / st["wall"] / 1e9, 1),
                               mfu_wall=round(flops * st["steps"] / st["wall"] / peak, 4),
                               mm_gflop_per_s=round(peak / 1e9, 1), device_name=name,
                               paper_epochs_days=round(paper_epochs_days(both), 2))
                if cuda:
                    row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
                rows.append(row)
                log(f"  [{n} {prec}] {m:15s} {row['words_per_s']:8.0f} target words/s, "
                    f"{both:8.0f} source + target; {row['ms_per_step']:.0f} ms/step; "
                    f"MFU {row['mfu_wall']:.1%}; 7.5 paper epochs: {row['paper_epochs_days']} days")
    return rows


def write_device_report(out_dir, rows, meta):
    """benchmark_gpu.{md,csv}: the device rows (results/benchmark.md keeps the CPU run)."""
    write_csv(out_dir / "benchmark_gpu.csv", rows)
    lines = ["# Benchmark on a GPU: sutskever_lstm vs fairseq's built-in lstm", "",
             "Generated by `" + meta["command"] + "`.", "",
             f"- Device: {rows[0]['device_name'] if rows else 'n/a'}; host: {meta['machine']}",
             f"- Run {meta['start']} to {meta['end']} UTC ({meta['wall']:.0f} s wall)",
             "- Both models through one fairseq `Trainer` each (SGD lr 0.7, cross_entropy, "
             "--sentence-avg --clip-norm 5), batches of 128 sentences of 27 +- 2 words (WMT'14's "
             "average), one model at a time; precision by fairseq's own flags (`--fp16`: fp16 "
             "model with fp32 master weights; `--amp`: autocast with fp32 weights).",
             "- Paper (section 3.5): about 1,700 words/s on one GPU; 6,300 words/s (both English "
             "and French) on 8 GPUs; 7.5 epochs x 652M words / 6,300 = 9.0 days, the paper's "
             "\"about ten days\".", "",
             *table_head("size", "precision", "sutskever_lstm words/s, source + target (target)",
                         "built-in", "ratio", "x paper's 1 GPU (1,700)", "x paper's 8 GPUs (6,300)",
                         "7.5 paper epochs", "MFU (vs torch.mm)",
                         "peak GPU memory MB ours / built-in")]
    for r in rows:
        if r["model"] != "sutskever_lstm":
            continue
        b = [x for x in rows if x["model"] == "builtin_lstm" and x["size"] == r["size"]
             and x["precision"] == r["precision"]]
        b = b[0] if b else {}
        ratio = (f"**{r['src_tgt_words_per_s'] / b['src_tgt_words_per_s']:.2f}x**" if b else "n/a")
        lines.append(
            f"| {r['size']} | {r['precision']} | {r['src_tgt_words_per_s']:.0f} ({r['words_per_s']:.0f}) | "
            f"{b.get('src_tgt_words_per_s', 0):.0f} | {ratio} | {r['src_tgt_words_per_s'] / 1700:.2f}x | "
            f"{r['src_tgt_words_per_s'] / 6300:.2f}x | {r['paper_epochs_days']} days | "
            f"{r['mfu_wall']:.0%} | {r.get('peak_gpu_mb', '')} / {b.get('peak_gpu_mb', '')} |")
    (out_dir / "benchmark_gpu.md").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- profile
def profile(root, size_name, size, log):
    from torch.profiler import ProfilerActivity, profile as tprofile
    setup = Setup(root, size)
    sample = setup.batch(size["batch"], size["length"])
    gsample = setup.batch(size["gen_batch"], size["length"], torch.Generator().manual_seed(5))
    for m in MODELS:
        tr = setup.trainer(m, size["batch"])
        tr.train_step([sample])
        with tprofile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            tr.train_step([sample])
        log(f"===== train step, {m} ({size_name})")
        log(prof.key_averages(group_by_input_shape=True).table(
            sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=34,
            max_shapes_column_width=60))
        gen = generator(tr.model, setup.tgt_dict, 12, size["length"])
        tr.model.eval()
        gen.generate([tr.model], gsample)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            gen.generate([tr.model], gsample)
        log(f"===== generate beam 12, {m} ({size_name})")
        log(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20,
                                      max_name_column_width=34))


# --------------------------------------------------------------------------- report
def table_head(*columns):
    """A markdown table's header and separator lines."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def write_csv(path, rows):
    """Every row under the one set of CSV_FIELDS (a row leaves blank what it did not measure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in CSV_FIELDS})


def write_report(out_dir, rows, meta, notes):
    write_csv(out_dir / "benchmark.csv", rows)

    def pick(kind, size=None, model=None, **kw):
        return [r for r in rows if r["kind"] == kind and (size is None or r["size"] == size)
                and (model is None or r["model"] == model)
                and all(r.get(k) == v for k, v in kw.items())]

    def ratio(a, b):
        return f"{a / b:.2f}x" if a and b else "n/a"

    lines = [
        "# Benchmark: sutskever_lstm vs fairseq's built-in lstm", "",
        "Generated by `" + meta["command"] + "` (tables and CSV are rewritten on every run; "
        "the notes section at the end is kept).", "",
        f"- Machine: {meta['machine']}",
        f"- torch threads: {meta['threads']}; mode: {meta['mode']}; run {meta['start']} to "
        f"{meta['end']} UTC ({meta['wall']:.0f} s wall)",
        f"- Load average (1 min) at start / end: {meta['load_start']:.2f} / {meta['load_end']:.2f} "
        f"on {os.cpu_count()} cores. The machine is shared, so wall-clock figures move with "
        "the load; CPU-time figures (this process' CPU seconds, `time.process_time`) do not "
        "count the time other processes hold the core. Ratios are measured side by side, "
        "the two models' steps interleaved.",
        f"- Large fp32 `torch.mm` (2048^3), best 0.3 s window: {meta['mm_wall']} GFLOP/s per wall "
        f"second and {meta['mm_cpu']} GFLOP/s per CPU second over the run (measured before "
        "and after each training measurement; the MFU denominator is the best of them, "
        "the CSV also has each measurement's MFU over its own neighbours as mfu_*_local); "
        f"bf16 `torch.mm`: {meta['mm_bf16']} GFLOP/s per CPU second (the bf16 rows' "
        "denominator, its best likewise)",
        f"- Peak process RSS (ru_maxrss): {meta['maxrss_mb']:.0f} MB", "",
        "Built-in baseline: `--arch lstm --decoder-attention 0 --dropout 0 "
        "--decoder-out-embed-dim H` with the same layers, sizes and vocabularies; its input "
        "feeding cannot be switched off (see notes). Both models: `--task translation "
        "--lr 0.7 --sentence-avg --clip-norm 5`, the built-in with "
        "`--optimizer sgd --criterion cross_entropy`, ours with `" + " ".join(CPU_RECIPE) +
        "` (the same updates; as reproduce_table1.sh trains it at the paper's scale), "
        "fp32, the same synthetic batches (sentences of similar length: words uniform in "
        "length +-2, plus EOS; sources left-padded as fairseq does), one fairseq `Trainer` "
        "each, `train_step` timed. Words = target tokens incl. EOS (fairseq's `ntokens`).", "",
        "## Training throughput", "",
        *table_head("size", "layers x hidden", "vocab src/tgt", "batch x words",
                    "sutskever_lstm words/s (per CPU-s)", "built-in words/s (per CPU-s)",
                    "ratio wall / CPU", "ours ms/step wall (CPU)", "MFU ours CPU / wall",
                    "MFU built-in CPU", "GFLOP/step ours", "peak RSS MB ours / built-in", "load")]
    for size in meta["sizes"]:
        for kind in ("train", "train_keep_memory"):
            ours, base = pick(kind, size, "sutskever_lstm"), pick(kind, size, "builtin_lstm")
            if not ours or not base:
                continue
            o, b = ours[0], base[0]
            mem = (f"{o['peak_rss_mb']} (+{o['rss_delta_mb']}) / {b['peak_rss_mb']} (+{b['rss_delta_mb']})"
                   if "peak_rss_mb" in o else "")
            label = size if kind == "train" else f"{size}, freed memory kept*"
            lines.append(
                f"| {label} | {o['layers']}x{o['hidden']} | {o['src_vocab']}/{o['tgt_vocab']} | "
                f"{o['batch']} x ~{o['tgt_len']} | {o['words_per_s']:.0f} ({o['words_per_cpu_s']:.0f}) | "
                f"{b['words_per_s']:.0f} ({b['words_per_cpu_s']:.0f}) | "
                f"**{ratio(o['words_per_s'], b['words_per_s'])}** / "
                f"**{ratio(o['words_per_cpu_s'], b['words_per_cpu_s'])}** | {o['ms_per_step']:.0f} "
                f"({o['cpu_ms_per_step']:.0f}) | "
                f"**{o['mfu_cpu']:.0%}** / {o['mfu_wall']:.0%} | {b['mfu_cpu']:.0%} | "
                f"{o['gflop_per_step']:.1f} | {mem} | {o['load1']:.1f} |")
    lines += [
        "", "MFU = counted matmul FLOPs of the step (LSTM: 4 gates x (in + hid) x hid x 2 per "
        "real token per layer, encoder and decoder; softmax projection: hid x V x 2 per real "
        "target token; x3 for forward + backward; the built-in's wider first decoder layer is "
        "counted for it) per second, over the `torch.mm` FLOP/s above, both per CPU second "
        "(load-independent) and per wall second. Peak RSS: resident set sampled every 5 ms "
        "during the measured steps, + growth over the RSS before the models were built (small "
        "and medium: both models alive together, so both columns show the one process peak; "
        "paper size: one model at a time). At the paper size the two models also run one "
        "after the other instead of interleaved, so there the wall-clock ratio is exposed to "
        "load changes between them: read the CPU-time ratio.",
        "",
        "\\* `freed memory kept`: the same measurement repeated at the end of the run after "
        "`mallopt(M_MMAP_MAX, 0)` (what `MALLOC_MMAP_MAX_=0` does), so freed tensors' pages "
        "are reused instead of being unmapped and page-faulted in afresh next step. A "
        "process-wide setting that helps both models; see notes.", ""]
    lines += recipe_section(pick, ratio, meta["sizes"])
    lines += bf16_section(pick, ratio, meta["sizes"])
    lines += paper_speed_section(pick, meta["sizes"])
    lines += [
        "## Generation (fairseq SequenceGenerator)", "",
        *table_head("size", "batch", "words/sentence", "beam", "sutskever_lstm sent/s (per CPU-s)",
                    "built-in sent/s (per CPU-s)", "ratio wall / CPU", "load")]
    for size in meta["sizes"]:
        for beam in (1, 12):
            o = pick("generate", size, "sutskever_lstm", beam=beam)
            b = pick("generate", size, "builtin_lstm", beam=beam)
            if o and b:
                o, b = o[0], b[0]
                lines.append(
                    f"| {size} | {o['batch']} | {o['tgt_len']} | {beam} | {o['sents_per_s']:.1f} "
                    f"({o['sents_per_cpu_s']:.1f}) | {b['sents_per_s']:.1f} ({b['sents_per_cpu_s']:.1f}) | "
                    f"**{ratio(o['sents_per_s'], b['sents_per_s'])}** / "
                    f"{ratio(o['sents_per_cpu_s'], b['sents_per_cpu_s'])} | {o['load1']:.1f} |")
    lines += ["", "Every hypothesis is forced to the same length (min_len = max_len = words), so "
              "both models do identical search work whatever an untrained model would emit.", "",
              "## How time grows", ""]
    for kind, key in (("scale_length", "tgt_len"), ("scale_batch", "batch"), ("scale_beam", "beam")):
        rs = pick(kind, model="sutskever_lstm")
        if not rs:
            continue
        r0 = rs[0]
        if kind == "scale_beam":
            lines += [f"Generation vs beam size, {r0['size']} model, batch {r0['batch']}, "
                      f"{r0['tgt_len']} words + EOS per sentence:", "",
                      *table_head("beam", "ours sent/s", "built-in sent/s", "ratio",
                                  "ours ms per decoder step (CPU)",
                                  "built-in ms per decoder step (CPU)")]
        else:
            what = ("sentence length (words)" if kind == "scale_length" else "batch (sentences)")
            fixed = (f"batch {r0['batch']}" if kind == "scale_length" else f"~{r0['tgt_len']} words")
            lines += [f"Training step vs {what}, {r0['size']} model, {fixed}:", "",
                      *table_head(what, "ours ms/step (CPU)", "built-in ms/step (CPU)",
                                  "built-in / ours", "ours words per CPU-s",
                                  "built-in words per CPU-s", "ours GFLOP/step")]
        for r in rs:
            b = pick(kind, r["size"], "builtin_lstm", **{key: r[key]})[0]
            if kind == "scale_beam":
                lines.append(f"| {r[key]} | {r['sents_per_s']:.1f} | {b['sents_per_s']:.1f} | "
                             f"{ratio(r['sents_per_s'], b['sents_per_s'])} | {r['cpu_ms_per_step']:.1f} | "
                             f"{b['cpu_ms_per_step']:.1f} |")
            else:
                lines.append(f"| {r[key]} | {r['ms_per_step']:.0f} ({r['cpu_ms_per_step']:.0f}) | "
                             f"{b['ms_per_step']:.0f} ({b['cpu_ms_per_step']:.0f}) | "
                             f"{ratio(b['cpu_ms_per_step'], r['cpu_ms_per_step'])} | "
                             f"{r['words_per_cpu_s']:.0f} | {b['words_per_cpu_s']:.0f} | "
                             f"{r['gflop_per_step']:.1f} |")
        lines.append("")
    lines += ["## Benchmark notes", "", notes.strip() if notes.strip() else "(none)", ""]
    (out_dir / "benchmark.md").write_text("\n".join(lines))


def recipe_section(pick, ratio, sizes):
    lines = ["## What each piece of ours' recipe gives (`" + " ".join(CPU_RECIPE) + "`)", "",
             *table_head("size", "ours words/s (per CPU-s)",
                         "dense embedding gradients, fairseq's sgd", "fairseq's cross_entropy",
                         "ours / each (CPU)", "ratio to built-in: ours / each (CPU)",
                         "MFU: ours / each (CPU)", "load")]
    for size in sizes:
        o, b = pick("train", size, "sutskever_lstm"), pick("train", size, "builtin_lstm")
        ab = [pick(kind, size, "sutskever_lstm") for kind in AB_KINDS]
        if not (o and b and all(ab)):
            continue
        o, b, ab = o[0], b[0], [r[0] for r in ab]
        lines.append(
            f"| {size} | {o['words_per_s']:.0f} ({o['words_per_cpu_s']:.0f}) | "
            + " | ".join(f"{r['words_per_s']:.0f} ({r['words_per_cpu_s']:.0f})" for r in ab) + " | "
            + " / ".join(f"**{ratio(o['words_per_cpu_s'], r['words_per_cpu_s'])}**" for r in ab) + " | "
            + " / ".join(ratio(r['words_per_cpu_s'], b['words_per_cpu_s']) for r in [o, *ab]) + " | "
            + " / ".join(f"{r['mfu_cpu']:.0%}" for r in [o, *ab]) + f" | {ab[-1]['load1']:.1f} |")
    return lines + [
        "", "Ours again, in the same process on the same batches after the two models' "
        "interleaved measurement, with one piece of its recipe back to fairseq's: "
        "`--optimizer sgd` and dense embedding gradients (every update then zero-fills, "
        "scales, clips and applies both whole embedding tables; sparse ones touch only the "
        "batch's rows: sutskever_plugin/optim/sutskever_sgd.py), or `--criterion "
        "cross_entropy` (a zero-filled [tokens x vocab] loss gradient per step, read back by "
        "the log-softmax backward: sutskever_plugin/criterions/sutskever_cross_entropy.py).", ""]


def bf16_section(pick, ratio, sizes):
    lines = ["## Training in bfloat16 (`--autocast-bf16`)", "",
             *table_head("size", "sutskever_lstm bf16 words/s (per CPU-s)",
                         "built-in, same autocast", "ratio wall / CPU",
                         "ours bf16 / ours fp32 (CPU)", "ours bf16 / built-in fp32 (CPU)",
                         "MFU ours vs bf16 mm, CPU / wall", "bf16 mm GFLOP/s per CPU-s (this size)",
                         "load")]
    for size in sizes:
        o, b = pick("train_bf16", size, "sutskever_lstm"), pick("train_bf16", size, "builtin_lstm")
        o32, b32 = pick("train", size, "sutskever_lstm"), pick("train", size, "builtin_lstm")
        if not (o and b and o32 and b32):
            continue
        o, b, o32, b32 = o[0], b[0], o32[0], b32[0]
        lines.append(
            f"| {size} | {o['words_per_s']:.0f} ({o['words_per_cpu_s']:.0f}) | "
            f"{b['words_per_s']:.0f} ({b['words_per_cpu_s']:.0f}) | "
            f"**{ratio(o['words_per_s'], b['words_per_s'])}** / "
            f"**{ratio(o['words_per_cpu_s'], b['words_per_cpu_s'])}** | "
            f"{ratio(o['words_per_cpu_s'], o32['words_per_cpu_s'])} | "
            f"{ratio(o['words_per_cpu_s'], b32['words_per_cpu_s'])} | "
            f"{o['mfu_cpu']:.0%} / {o['mfu_wall']:.0%} | {o['mm_gflop_per_cpu_s']:.0f} | {o['load1']:.1f} |")
    return lines + [
        "", "sutskever_lstm with its `--autocast-bf16` flag: the training forward (and so its "
        "backward) runs in `torch.autocast('cpu', bfloat16)`; parameters, gradients, the "
        "optimizer and the loss stay fp32, validation and decoding stay fp32. The built-in has "
        "no such flag: the benchmark wraps its forward in the same autocast, so the ratio "
        "compares like with like; the column before MFU is what a user gains over the "
        "built-in as fairseq runs it (fp32; fairseq's own `--bf16` means TPU, `--fp16`/`--amp` "
        "need CUDA). MFU here is over the bf16 `torch.mm` rate (AMX on this CPU).", ""]


def paper_speed_section(pick, sizes):
    if "paper" not in sizes:
        return []
    lines = ["## The paper's model against the paper's speed", "",
             "The paper trained at 6,300 words/s on 8 GPUs (1,700 on one GPU), which took "
             "\"about ten days\": 7.5 epochs x 652M words (348M French + 304M English) / "
             "6,300 words/s = 9.0 days, so its words/s count both languages. Here, on this "
             "machine, at batch 64:", "",
             *table_head("measurement", "words/s, source + target (target only)",
                         "x paper's 1 GPU", "7.5 epochs would take")]
    for kind, what in (("train", "fp32"), ("train_keep_memory", "fp32, freed memory kept"),
                       ("train_bf16", "bf16 autocast")):
        r = pick(kind, "paper", "sutskever_lstm")
        if not r:
            continue
        r = r[0]
        wps = r["src_tgt_words_per_s"]
        days = paper_epochs_days(wps)
        lines.append(f"| sutskever_lstm, {what} | {wps:.0f} ({r['words_per_s']:.0f}) | "
                     f"{wps / 1700:.3f}x | {days:,.0f} days ({days / 365:.1f} years) |")
    return lines + [""]


def existing_notes(md_path):
    """The hand-written notes section of an earlier report, kept across reruns."""
    try:
        text = Path(md_path).read_text()
    except OSError:
        return ""
    marker = "## Benchmark notes"
    return text.split(marker, 1)[1] if marker in text else ""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, < 60 s (used by the tests)")
    p.add_argument("--sizes", help="comma-separated subset of the mode's sizes "
                   f"(full: {','.join(SIZES['full'])}; quick: {','.join(SIZES['quick'])})")
    p.add_argument("--no-scaling", action="store_true", help="skip the length/batch/beam study")
    p.add_argument("--no-allocator", action="store_true",
                   help="skip the final fp32 measurements with freed memory kept")
    p.add_argument("--out-dir", default=str(REPO / "results"), help="where benchmark.md/.csv go")
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads (default 1: on a shared 2-core machine two "
                        "OpenMP threads wait on each other whenever another process holds a "
                        "core; 0 = torch's default)")
    p.add_argument("--profile", action="store_true", help="print torch.profiler tables and exit")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: training words/s on one GPU at the medium and paper sizes in "
                        "fp32, fp16 and amp, written to benchmark_gpu.{md,csv} (issue 7, item 3)")
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
            for n in names:
                profile(root, n, sizes[n], log)
            return 0
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


if __name__ == "__main__":
    sys.exit(main())
