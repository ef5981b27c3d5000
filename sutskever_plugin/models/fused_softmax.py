"""The output softmax of a CPU training step, with its [tokens x vocab] memory reused.

Profiling a CPU training step (results/benchmark.md) showed much of the softmax's time
spent faulting in and zeroing fresh [tokens x V] tensors at every step. Here the
projection and the log-softmax write into buffers kept between steps, bit-for-bit
``log_softmax(addmm(b, x, W^T))`` (under bf16 autocast: autocast's bf16 ``addmm``, then
fairseq's float log-softmax; tested). The next training forward overwrites the output,
so this path is used only in CPU training with gradients (``fused_dtype``); a graph
whose buffer was overwritten before its backward raises autograd's "modified by an
inplace operation" error. Told the targets, the decoder uses ``ProjectNLL``: the summed
loss, with no [tokens x V] tensor leaving the function.
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
    """The dtype of the fused path's matmuls (fp32, or bf16 under CPU autocast), or None
    where it does not apply."""
    if not (training and torch.is_grad_enabled() and x.device.type == "cpu"):
        return None
    if x.dtype == torch.float32 and not torch.is_autocast_enabled("cpu"):
        return torch.float32
    if x.dtype == torch.bfloat16 and torch.is_autocast_enabled("cpu") \
            and torch.get_autocast_dtype("cpu") == torch.bfloat16:
        return torch.bfloat16
    return None


def _log_probs(x: Tensor, weight: Tensor, bias: Tensor, buffers: ReusedBuffers,
               dtype: torch.dtype, name: str):
    """fp32 ``log_softmax(x W^T + b)`` into the buffer ``name``, the matmul in ``dtype``.
    Returns the operands in ``dtype`` (for the backward's matmuls) and the log-probs."""
    n, v = x.size(0), weight.size(0)
    lprobs = buffers.get(name, n, v, x, torch.float32)
    xc, wc = x.to(dtype), weight.to(dtype)
    if dtype == torch.float32:
        logits = buffers.get("logits", n, v, x, dtype)
        torch.addmm(bias, xc, wc.t(), out=logits)
        aten._log_softmax.out(logits, -1, False, out=lprobs)  # in place when name == "logits"
    else:
        # bf16 logits, then log-softmax in fp32 in place in the output buffer
        logits = buffers.get("logits_low", n, v, x, dtype)
        torch.addmm(bias.to(dtype), xc, wc.t(), out=logits)
        lprobs.copy_(logits)
        aten._log_softmax.out(lprobs, -1, False, out=lprobs)
    return xc, wc, lprobs


def _projection_grads(ctx, grad_logits: Tensor, xc: Tensor, wc: Tensor):
    """Gradients of x, W and b from the (fp32) gradient of the logits."""
    if ctx.dtype != torch.float32:
        # as autocast's backward: the gradient of the bf16 addmm is taken in bf16
        n, v = grad_logits.shape
        low = ctx.buffers.get("logits_low", n, v, grad_logits, ctx.dtype)
        low.copy_(grad_logits)
        grad_logits = low
    grad_x = (grad_logits @ wc).to(ctx.x_dtype) if ctx.needs_input_grad[0] else None
    grad_w = (grad_logits.t() @ xc).float() if ctx.needs_input_grad[1] else None
    grad_b = grad_logits.sum(0).float() if ctx.needs_input_grad[2] else None
    return grad_x, grad_w, grad_b


class ProjectLogSoftmax(torch.autograd.Function):
    """log_softmax(x @ W^T + b) over the last dimension; x is (N, H), W is (V, H).

    The matmuls run in ``dtype`` (fp32, or bf16 under autocast); the log-probabilities
    are always fp32, like the stock path's (fairseq's log_softmax casts to float)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, buffers: ReusedBuffers,
                dtype: torch.dtype = torch.float32) -> Tensor:
        xc, wc, lprobs = _log_probs(x, weight, bias, buffers, dtype, "lprobs")
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
        return (*_projection_grads(ctx, grad_logits, xc, wc), None, None)


class ProjectNLL(torch.autograd.Function):
    """``F.nll_loss(ProjectLogSoftmax(...), target, reduction="sum")`` (every row counts:
    the caller leaves padding out), or with ``epsilon`` > 0 fairseq's
    ``label_smoothed_nll_loss`` (``eps_i = eps / (V - 1)``), and the plain summed NLL (for
    the log). The log-probabilities live in the logits buffer, and the backward turns
    them in place into ``softmax - q``, q the smoothed target distribution."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor, target: Tensor,
                buffers: ReusedBuffers, dtype: torch.dtype = torch.float32,
                epsilon: float = 0.0):
        name = "logits" if dtype == torch.float32 else "lprobs"
        xc, wc, lprobs = _log_probs(x, weight, bias, buffers, dtype, name)
        rows = torch.arange(target.numel(), device=target.device)
        nll = -lprobs[rows, target].sum()
        if epsilon:
            eps_i = epsilon / (lprobs.size(1) - 1)
            loss = (1.0 - epsilon - eps_i) * nll - eps_i * lprobs.sum()
        else:
            loss, eps_i = nll.clone(), 0.0
        ctx.save_for_backward(xc, wc, lprobs, rows, target)
        ctx.buffers, ctx.dtype, ctx.x_dtype = buffers, dtype, x.dtype
        ctx.on_target, ctx.eps_i = 1.0 - epsilon - eps_i, eps_i
        ctx.mark_non_differentiable(nll)
        return loss, nll

    @staticmethod
    def backward(ctx, grad_loss: Tensor, _grad_nll: Tensor):
        xc, wc, lprobs, rows, cols = ctx.saved_tensors
        # d loss / d logits = softmax - q; in place: the log-probs are not needed after
        # this (a second backward through the graph is an error)
        grad_logits = lprobs.exp_()
        if ctx.eps_i:
            grad_logits.sub_(ctx.eps_i)
        grad_logits.index_put_((rows, cols), grad_logits.new_tensor(-ctx.on_target),
                               accumulate=True)
        if not bool(grad_loss == 1):
            grad_logits.mul_(grad_loss)
        return (*_projection_grads(ctx, grad_logits, xc, wc), None, None, None, None)
