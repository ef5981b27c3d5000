"""The output softmax of a CPU training step, with its [tokens x vocab] memory reused.

Profiling a CPU training step (results/benchmark.md) showed that a good part of the
softmax's time is not arithmetic: every step allocates fresh [tokens x V] tensors (the
logits, their log-softmax, the log-softmax gradient), which glibc maps from the OS and
unmaps again on free, so every page is faulted in and zeroed anew at every step. Here the
projection and the log-softmax write into two buffers kept between steps, and the
backward pass reuses the logits buffer for the gradient. Results are bit-for-bit those of
``log_softmax(addmm(b, x, W^T))`` (tested).

The returned log-probabilities live in a buffer that the next training forward
overwrites, so this path is used only where nobody keeps the output across steps: in
training mode, with gradients enabled, on CPU, in fp32 (see ``use_fused``). A graph whose
buffer was overwritten before its backward raises autograd's "modified by an inplace
operation" error instead of producing wrong gradients.
"""
from typing import Dict

import torch
from torch import Tensor

aten = torch.ops.aten


class ReusedBuffers:
    """Named flat buffers that grow to the largest request and are then reused."""

    def __init__(self):
        self._buffers: Dict[str, Tensor] = {}

    def get(self, name: str, rows: int, cols: int, like: Tensor) -> Tensor:
        buf = self._buffers.get(name)
        if buf is None or buf.numel() < rows * cols or buf.dtype != like.dtype:
            buf = like.new_empty(rows * cols)
            self._buffers[name] = buf
        return buf[: rows * cols].view(rows, cols)

    def __deepcopy__(self, memo):  # a copied model gets its own, empty buffers
        return ReusedBuffers()

    def __getstate__(self):  # and so does a pickled one
        return {"_buffers": {}}


def use_fused(x: Tensor, training: bool) -> bool:
    return training and torch.is_grad_enabled() and x.device.type == "cpu" and x.dtype == torch.float32


class ProjectLogSoftmax(torch.autograd.Function):
    """log_softmax(x @ W^T + b) over the last dimension; x is (N, H), W is (V, H)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, buffers: ReusedBuffers) -> Tensor:
        n, v = x.size(0), weight.size(0)
        logits = buffers.get("logits", n, v, x)
        torch.addmm(bias, x, weight.t(), out=logits)
        lprobs = buffers.get("lprobs", n, v, x)
        aten._log_softmax.out(logits, -1, False, out=lprobs)
        ctx.save_for_backward(x, weight, lprobs)
        ctx.buffers = buffers
        return lprobs

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight, lprobs = ctx.saved_tensors
        # the logits are not needed any more: their buffer takes the logits' gradient
        grad_logits = ctx.buffers.get("logits", lprobs.size(0), lprobs.size(1), lprobs)
        aten._log_softmax_backward_data.out(grad.contiguous(), lprobs, -1, lprobs.dtype,
                                            out=grad_logits)
        grad_x = grad_logits @ weight if ctx.needs_input_grad[0] else None
        grad_w = grad_logits.t() @ x if ctx.needs_input_grad[1] else None
        grad_b = grad_logits.sum(0) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b, None
