"""This CPU's one-thread bf16 and fp32 torch.mm rates, at the LSTM gates' size (512) and
the benchmark's (2048): how much bf16 can pay here (scripts/tune_small.sh).

    python -m sutskever_plugin.benchmark.bf16_choice [--out FILE]

CPUs of one kind differ (AMX, AVX512-BF16 or no bf16 instructions), and a training step
gains less than its matmuls: on the AMD kind, where torch.mm measured 2.16-2.75x, an epoch
of the small recipe took 250.7 CPU s in bf16 against 422.4 in fp32
(results/tuning_small/probes.csv, amd_p2x512_*). Prints (and writes to --out) one JSON line.
"""
import argparse
import json


def measure(seconds=1.0):
    import torch

    from .timing import matmul_peak

    torch.set_num_threads(1)
    res = {"threads": 1}
    for n in (512, 2048):
        # per CPU second of this process: the best window, free of other users' bursts
        fp32 = matmul_peak(n, seconds, torch.float32)[1] / 1e9
        bf16 = matmul_peak(n, seconds, torch.bfloat16)[1] / 1e9
        res[f"fp32_gflops_{n}"], res[f"bf16_gflops_{n}"] = round(fp32, 1), round(bf16, 1)
        res[f"bf16_over_fp32_{n}"] = round(bf16 / fp32, 2)
    return res


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.benchmark.bf16_choice", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="also write the JSON line here (atomically)")
    out = p.parse_args(argv).out
    line = json.dumps(measure())
    if out:
        from ..data.textio import write_text
        write_text(out, line + "\n")
    print(line)


if __name__ == "__main__":
    main()
