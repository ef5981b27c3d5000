"""torch.profiler tables of one training step and one beam search per model (``--profile``),
with each step's time split into the matrix multiplies and everything else, beside the
step's unprofiled wall time (what is neither: Python, fairseq's Trainer between ops)."""
import time

import torch

from .config import CPU_RECIPE, MODELS
from .fairseq_setup import Setup
from .timing import generator

# the ops that are matrix multiplies (the LSTM's layers run as oneDNN's fused RNN layer,
# whose time is mostly its gate matmuls)
MATMUL_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::matmul", "aten::linear",
              "aten::mkldnn_rnn_layer", "aten::mkldnn_rnn_layer_backward")


def split_time(prof):
    """(total self CPU ms, matmul self CPU ms, the five largest other ops as (name, ms))."""
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events) / 1e3
    matmul = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS) / 1e3
    others = sorted(((e.key, e.self_cpu_time_total / 1e3) for e in events
                     if e.key not in MATMUL_OPS), key=lambda kv: -kv[1])
    return total, matmul, others[:5]


def profile(root, size_name, size, log, extra=(), recipe=CPU_RECIPE, steps=2):
    from torch.profiler import ProfilerActivity, profile as tprofile
    setup = Setup(root, size)
    sample = setup.batch(size["batch"], size["length"])
    gsample = setup.batch(size.get("gen_batch", 8), size["length"], torch.Generator().manual_seed(5))
    for precision in ("fp32", "bf16"):
        for m in MODELS:
            tr = setup.trainer(m, size["batch"], precision == "bf16", extra=extra, recipe=recipe)
            tr.train_step([sample])
            wall = time.perf_counter()  # the same steps unprofiled: the time outside ops
            for _ in range(steps):
                tr.train_step([sample])
            wall = (time.perf_counter() - wall) * 1e3 / steps
            with tprofile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
                for _ in range(steps):
                    tr.train_step([sample])
            total, matmul, others = split_time(prof)
            log(f"===== train step, {m} ({size_name}, {precision}), {steps} steps")
            log(f"per step: {wall:.0f} ms wall unprofiled; under the profiler "
                f"{total / steps:.0f} ms of ops' self CPU time, matrix multiplies "
                f"({', '.join(MATMUL_OPS)}) {matmul / steps:.0f} ms = {matmul / total:.0%}, "
                f"the rest {(total - matmul) / steps:.0f} ms = {1 - matmul / total:.0%}; largest of "
                "the rest: " + ", ".join(f"{k} {v / steps:.0f} ms" for k, v in others))
            log(prof.key_averages(group_by_input_shape=True).table(
                sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=34,
                max_shapes_column_width=60))
            if precision != "fp32":
                continue
            gen = generator(tr.model, setup.tgt_dict, 12, size["length"])
            tr.model.eval()
            gen.generate([tr.model], gsample)
            with tprofile(activities=[ProfilerActivity.CPU]) as prof:
                gen.generate([tr.model], gsample)
            log(f"===== generate beam 12, {m} ({size_name})")
            log(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20,
                                          max_name_column_width=34))
            del tr
