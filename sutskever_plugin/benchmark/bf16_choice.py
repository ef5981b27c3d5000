"""Train in bf16 on this CPU or not: decided by a short measurement, at run time.

    python -m sutskever_plugin.benchmark.bf16_choice [--out FILE]

CPUs of the same kind differ: an Intel Xeon with AMX multiplies bf16 matrices 3-6x faster
than fp32, an AMD EPYC with AVX512-BF16 but no AMX 2-3x, a CPU without bf16 instructions
several times slower. The equal-time comparison (scripts/quality.sh --bf16 auto) and the
recipe search (scripts/tune_small.sh) use this to train in bf16 only where it pays; the
main job does not (it trains in bf16 everywhere, for one table).
The training step gains less than the matmul (the casts and the elementwise gate work
stay): on the AMD kind, where torch.mm measured 2.16-2.75x, an epoch of the small recipe
took 250.7 CPU s in bf16 against 422.4 in fp32 (results/tuning_small/probes.csv,
amd_p2x512_*). So bf16 is chosen when its matmul is at least MIN_RATIO times fp32 at both
sizes (the order of our LSTM gate matmuls, 512, and the benchmark's, 2048): 1.5, below
the AMD kind's measured range with a margin, so that machines of one kind make one choice
(it was 2.0, and one run there measured 2.13). One thread, as each training of the main
job's pool.
Prints (and writes to --out) one JSON line: the rates, their ratios, the choice.
"""
import sys

from sutskever_plugin.benchmark.choice_cli import choice_parser, run_choice

MIN_RATIO = 1.5


def measure(seconds=1.0):
    import torch

    from sutskever_plugin.benchmark.flops import matmul_peak

    torch.set_num_threads(1)
    res = {"threads": 1, "min_ratio": MIN_RATIO}
    for n in (512, 2048):
        # per CPU second of this process: the best window, free of other users' bursts
        fp32 = matmul_peak(n, seconds, torch.float32)[1] / 1e9
        bf16 = matmul_peak(n, seconds, torch.bfloat16)[1] / 1e9
        res[f"fp32_gflops_{n}"], res[f"bf16_gflops_{n}"] = round(fp32, 1), round(bf16, 1)
        res[f"bf16_over_fp32_{n}"] = round(bf16 / fp32, 2)
    res["use_bf16"] = min(res["bf16_over_fp32_512"], res["bf16_over_fp32_2048"]) >= MIN_RATIO
    return res


def describe(res):
    """One line for a table header: the choice and the measurement behind it."""
    return (f"{'bf16 autocast' if res['use_bf16'] else 'fp32'} (chosen at run time: this CPU's "
            f"one-thread bf16 torch.mm was {res['bf16_over_fp32_512']}x fp32 at 512 and "
            f"{res['bf16_over_fp32_2048']}x at 2048; bf16 needs >= {res['min_ratio']}x at both)")


def main(argv=None):
    p = choice_parser("python -m sutskever_plugin.benchmark.bf16_choice", __doc__)
    return run_choice(p.parse_args(argv), measure, describe)


if __name__ == "__main__":
    sys.exit(main())
