"""Is ``--autocast-bf16`` worth it on this CPU? This CPU's bf16 ``torch.mm`` rate over its
fp32 rate at 512 x 512 (the order of the small-scale LSTM's gate matmuls, batch x 4h),
one thread, about a second per dtype.

    python -m sutskever_plugin.benchmark.bf16_choice --out FILE.json

Stand-in for the project's bf16 decision module (being added by the lead; fold this into
it): CPUs with bf16 instructions (AMX, AVX512-BF16) run bf16 matmuls several times faster
than fp32, and there our bf16 training step is faster too (results/benchmark.md); CPUs
without them emulate bf16 and are slower, so the autocast is then a loss.
"""
import argparse
import json

import torch

from sutskever_plugin.benchmark.flops import matmul_peak
from sutskever_plugin.data.textio import write_text

# bf16 counts as faster above this ratio: a margin for the measurement's noise
FASTER = 1.1


def measure(n: int = 512, seconds: float = 1.0) -> dict:
    """The per-CPU-second rates (independent of other processes on a shared machine)."""
    torch.set_num_threads(1)
    fp32 = matmul_peak(n, seconds, torch.float32)[1] / 1e9
    bf16 = matmul_peak(n, seconds, torch.bfloat16)[1] / 1e9
    ratio = bf16 / fp32
    return {"n": n, "fp32_gflops_per_cpu_s": round(fp32, 1), "bf16_gflops_per_cpu_s": round(bf16, 1),
            "bf16_over_fp32": round(ratio, 2), "bf16_faster": ratio > FASTER}


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.benchmark.bf16_choice", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="JSON file for the rates, their ratio and the decision")
    p.add_argument("--seconds", type=float, default=1.0, help="measuring time per dtype")
    a = p.parse_args(argv)
    res = measure(seconds=a.seconds)
    write_text(a.out, json.dumps(res) + "\n")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
