"""FLOPs: what a training step computes (counted), and what the machine's matmuls reach
(measured), the two terms of model FLOP utilisation."""
import time

import torch


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
    """Matmul FLOPs of one training step (forward + backward = 3x forward), counted
    on real (non-pad) tokens: per token and layer 4 gates x (in + hid) x hid x 2, plus
    the softmax projection hid x V x 2 per target token. Embedding look-ups, element-wise
    gate math and the optimizer are not counted."""
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
