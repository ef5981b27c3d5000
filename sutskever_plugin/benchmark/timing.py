"""The timed loops (training steps and beam search, the models interleaved) and the CSV
row every measurement starts from."""
import os
import resource
import time

import torch
from fairseq.sequence_generator import SequenceGenerator


def cpu_seconds():
    """User + system CPU seconds of this process so far (getrusage): what a one-thread
    training spends of its budget, whoever else shares the machine."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def load1():
    """The 1-minute load average, kept beside every row: the machine may be shared."""
    return os.getloadavg()[0]


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
