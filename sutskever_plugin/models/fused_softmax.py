"""The output softmax of a CPU training step, with its [tokens x vocab] memory reused.

Profiling a CPU training step (results/benchmark.md) showed that a good part of the
softmax's time is not arithmetic: every step allocates fresh [tokens x V] tensors (the
logits, their log-softmax, the log-softmax gradient), which glibc maps from the OS and
unmaps again on free, so every page is faulted in and zeroed anew at every step. Here the
projection and the log-softmax write into two buffers kept between steps, and the
backward pass reuses the logits buffer for the gradient. Results are bit-for-bit those of
``log_softmax(addmm(b, x, W^T))``, and under bf16 autocast those of autocast's bf16
``addmm`` followed by fairseq's float log-softmax (tested).

The returned log-probabilities live in a buffer that the next training forward
overwrites, so this path is used only where nobody keeps the output across steps: in
training mode, with gradients enabled, on CPU, in fp32 or under bf16 autocast (see
``fused_dtype``; with ``--autocast-bf16`` the matmuls run in bf16 and the log-softmax in
fp32, as autocast and fairseq's float log_softmax would do them). A graph whose
buffer was overwritten before its backward raises autograd's "modified by an inplace
operation" error instead of producing wrong gradients.
"""
from typing import Dict, Optional

import torch
from torch import Tensor

aten = torch.ops.aten


class ReusedBuffers:
    """Named flat buffers that grow to the largest request and are then reused."""

    def __init__(self):
        self._buffers: Dict[str, Tensor] = {}

    def get(self, name: str, rows: int, cols: int, like: Tensor, dtype=None) -> Tensor:
        dtype = dtype or like.dtype
        buf = self._buffers.get(name)
        if buf is None or buf.numel() < rows * cols or buf.dtype != dtype:
            buf = like.new_empty(rows * cols, dtype=dtype)
            self._buffers[name] = buf
        return buf[: rows * cols].view(rows, cols)

    def __deepcopy__(self, memo):  # a copied model gets its own, empty buffers
        return ReusedBuffers()

    def __getstate__(self):  # and so does a pickled one
        return {"_buffers": {}}


def fused_dtype(x: Tensor, training: bool) -> Optional[torch.dtype]:
    """The dtype the fused path computes its matmuls in, or None where it does not apply:
    CPU training with gradients, fp32 features (fp32), or bf16 features under CPU
    autocast (``--autocast-bf16``: bf16 matmuls, fp32 log-softmax, as autocast would)."""
    if not (training and torch.is_grad_enabled() and x.device.type == "cpu"):
        return None
    if x.dtype == torch.float32 and not torch.is_autocast_enabled("cpu"):
        return torch.float32
    if x.dtype == torch.bfloat16 and torch.is_autocast_enabled("cpu") \
            and torch.get_autocast_dtype("cpu") == torch.bfloat16:
        return torch.bfloat16
    return None


class ProjectLogSoftmax(torch.autograd.Function):
    """log_softmax(x @ W^T + b) over the last dimension; x is (N, H), W is (V, H).

    The matmuls run in ``dtype`` (fp32, or bf16 under autocast); the log-probabilities
    are always fp32, like the stock path's (fairseq's log_softmax casts to float)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, buffers: ReusedBuffers,
                dtype: torch.dtype = torch.float32) -> Tensor:
        n, v = x.size(0), weight.size(0)
        lprobs = buffers.get("lprobs", n, v, x, torch.float32)
        xc, wc = x.to(dtype), weight.to(dtype)
        if dtype == torch.float32:
            logits = buffers.get("logits", n, v, x, dtype)
            torch.addmm(bias, xc, wc.t(), out=logits)
            aten._log_softmax.out(logits, -1, False, out=lprobs)
        else:
            # bf16 logits, then log-softmax in fp32 in place in the output buffer
            logits = buffers.get("logits_low", n, v, x, dtype)
            torch.addmm(bias.to(dtype), xc, wc.t(), out=logits)
            lprobs.copy_(logits)
            aten._log_softmax.out(lprobs, -1, False, out=lprobs)
        ctx.save_for_backward(xc, wc, lprobs)
        ctx.buffers, ctx.dtype, ctx.x_dtype = buffers, dtype, x.dtype
        return lprobs

    @staticmethod
    def backward(ctx, grad: Tensor):
        xc, wc, lprobs = ctx.saved_tensors
        n, v = lprobs.shape
        # the logits are not needed any more: their buffer takes the logits' gradient
        grad_logits = ctx.buffers.get("logits", n, v, lprobs, torch.float32)
        aten._log_softmax_backward_data.out(grad.contiguous(), lprobs, -1, lprobs.dtype,
                                            out=grad_logits)
        if ctx.dtype != torch.float32:
            # as autocast's backward: the gradient of the bf16 addmm is taken in bf16
            low = ctx.buffers.get("logits_low", n, v, lprobs, ctx.dtype)
            low.copy_(grad_logits)
            grad_logits = low
        grad_x = (grad_logits @ wc).to(ctx.x_dtype) if ctx.needs_input_grad[0] else None
        grad_w = (grad_logits.t() @ xc).float() if ctx.needs_input_grad[1] else None
        grad_b = grad_logits.sum(0).float() if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None, None
