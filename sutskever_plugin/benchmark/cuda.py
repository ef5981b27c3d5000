"""Training words/s on one GPU with fairseq's own precision flags (``--device cuda``)."""
import gc

import torch

from ..machine import commit, describe
from .config import GPU_PRECISIONS, MODELS, SPARSE_GRADS, paper_epochs_days
from .cpu import train_samples
from .fairseq_setup import Setup
from .timing import base_row, cuda_matmul_peak, matmul_peak, mean_step_flops, rates, time_train


def bench_device(root, names, sizes, precisions, log, device="cuda"):
    """Training words/s of both models on one device per precision, with fairseq's own
    precision flags; the paper's speed measure (source + target words/s) and what the
    paper's 7.5 epochs of 652M words would take at it. Memory: torch.cuda.max_memory_allocated."""
    rows = []
    cuda = device == "cuda"
    name = torch.cuda.get_device_name(0) if cuda else describe()
    if cuda:  # the fp32 rows' MFU reads against torch.mm without TF32 (torch's default)
        log(f"  torch.backends.cudnn.allow_tf32 = {torch.backends.cudnn.allow_tf32} (cuDNN's "
            f"LSTM), torch.backends.cuda.matmul.allow_tf32 = {torch.backends.cuda.matmul.allow_tf32}")
    for n in names:
        size = sizes[n]
        setup = Setup(root, size, device)
        samples = train_samples(setup, size)
        pad = setup.tgt_dict.pad()
        for prec in precisions:
            half = any(f in GPU_PRECISIONS[prec] for f in ("--fp16", "--amp"))
            sparse = "--sparse-embedding-grads" in GPU_PRECISIONS[prec]  # ours only
            mm_dtype = torch.float16 if half else torch.float32
            peak = cuda_matmul_peak(mm_dtype) if cuda else matmul_peak(dtype=mm_dtype)[0]
            # one model at a time: two paper-size models need twice the memory
            for m in MODELS[:1] if sparse else MODELS:
                gc.collect()
                if cuda:
                    torch.cuda.empty_cache()
                    torch.cuda.reset_peak_memory_stats()
                tr = setup.trainer(m, size["batch"], extra=GPU_PRECISIONS[prec])
                st = time_train({m: tr}, samples, size["rounds"], size["steps"])[m]
                del tr
                flops = mean_step_flops(m, size, samples, st["steps"], pad)
                both = (st["words"] + st["src_words"]) / st["wall"]
                # wall time only: a GPU's work is not this process' CPU time
                wall = {k: v for k, v in rates(st).items() if "cpu" not in k}
                row = base_row("device_train", n, m, size, precision=prec, batch=size["batch"],
                               src_len=size["length"], tgt_len=size["length"], **wall,
                               gflop_per_step=round(flops / 1e9, 2),
                               gflop_per_s=round(flops * st["steps"] / st["wall"] / 1e9, 1),
                               mfu_wall=round(flops * st["steps"] / st["wall"] / peak, 4),
                               mm_gflop_per_s=round(peak / 1e9, 1), device_name=name,
                               paper_epochs_days=round(paper_epochs_days(both), 2))
                if cuda:
                    row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
                if sparse:
                    row.update(sparse_update_check(setup, size["batch"], samples[0]))
                    log(f"  [{n} {prec}] one update, sparse - dense: max |diff| "
                        f"{row['sparse_dense_max_abs_diff']:.3g} (the update's max |change| "
                        f"{row['update_max_abs']:.3g})")
                rows.append(row)
                log(f"  [{n} {prec}] {m:15s} {row['words_per_s']:8.0f} target words/s, "
                    f"{both:8.0f} source + target; {row['ms_per_step']:.0f} ms/step; "
                    f"MFU {row['mfu_wall']:.1%}; 7.5 paper epochs: {row['paper_epochs_days']} days")
    return rows


def sparse_update_check(setup, batch, sample):
    """One update of ours with the plugin's SGD from the same weights on the same batch,
    with dense and with sparse embedding gradients: the largest absolute difference
    between the two models' weights after it, and the largest absolute change the dense
    update made (the scale the difference is to be read against). SGD without momentum is
    exact under sparsity (optim/sutskever_sgd.py), so only rounding may differ."""
    after, before = {}, None
    for kind, extra in (("dense", SPARSE_GRADS[:2]), ("sparse", SPARSE_GRADS)):
        # recipe=(): on a CPU the trainer would otherwise add sparse gradients to both
        tr = setup.trainer("sutskever_lstm", batch, extra=extra, recipe=())
        if before is None:
            before = {n: p.detach().clone() for n, p in tr.model.named_parameters()}
        tr.train_step([sample])
        after[kind] = {n: p.detach().clone() for n, p in tr.model.named_parameters()}
        assert any(p.grad is not None and p.grad.is_sparse for p in tr.model.parameters()) == (kind == "sparse")
        del tr
    diff = max((after["sparse"][n] - after["dense"][n]).abs().max().item() for n in before)
    change = max((after["dense"][n] - before[n]).abs().max().item() for n in before)
    return dict(sparse_dense_max_abs_diff=diff, update_max_abs=change)


if __name__ == "__main__":  # the versions and the device, for gpu_check.sh's gpu_env.txt
    import fairseq
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    print(f"torch {torch.__version__} cuda {torch.version.cuda} cudnn {torch.backends.cudnn.version()} "
          f"device {device} fairseq {fairseq.__version__}\nhost {describe()} commit {commit()}")
