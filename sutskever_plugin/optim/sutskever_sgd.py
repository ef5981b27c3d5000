"""The paper's optimizer (section 3.4), able to take sparse embedding gradients.

"We used stochastic gradient descent without momentum ... the gradient divided by 128
... if s > 5, we set g = 5g/s": plain SGD, driven by fairseq's trainer as its own ``sgd``
(``--sentence-avg``, ``--clip-norm 5``). Unlike ``--optimizer sgd`` it takes the sparse
gradients of ``--sparse-embedding-grads`` (at the paper's size the embeddings are 240M of
the 384M parameters, and a batch touches a few thousand rows): it clips sparse and dense
gradients to the global norm fairseq computes from dense ones (fairseq's
``clip_grad_norm_`` refuses sparse tensors), and scales them for ``--sentence-avg``
(fairseq's ``multiply_grads`` scales ``p.grad.data``, a detached alias for a sparse
tensor). SGD without momentum or weight decay is exact under sparsity.
"""
from collections import defaultdict

import torch

from fairseq import utils
from fairseq.optim import LegacyFairseqOptimizer, register_optimizer


@register_optimizer("sutskever_sgd")
class SutskeverSGD(LegacyFairseqOptimizer):
    def __init__(self, args, params):
        super().__init__(args)
        self._optimizer = torch.optim.SGD(params, **self.optimizer_config)

    @property
    def optimizer_config(self):
        # the lr may change between runs (fairseq's convention); there is nothing else
        return {"lr": self.args.lr[0]}

    def multiply_grads(self, c):
        """Multiplies every gradient by ``c``, sparse ones included."""
        dense = defaultdict(list)
        for p in self.params:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                p.grad.mul_(c.to(p.grad.device) if torch.is_tensor(c) else c)
            else:
                dense[p.grad.device, p.grad.dtype].append(p.grad)
        for (device, _), grads in dense.items():
            torch._foreach_mul_(grads, c.to(device) if torch.is_tensor(c) else c)

    def clip_grad_norm(self, max_norm, aggregate_norm_fn=None):
        """fairseq's clip (global L2 norm over all gradients, scaled to ``max_norm`` if
        above it; ``max_norm`` 0 only measures), with sparse gradients allowed."""
        params = [p for p in self.params if p.grad is not None]
        sparse = [p for p in params if p.grad.is_sparse]
        if not sparse:
            return super().clip_grad_norm(max_norm, aggregate_norm_fn)
        for p in sparse:
            # a look-up's gradient lists a row once per occurrence: sum the repeats
            # first, or the norm would count a repeated word's gradient piecewise
            p.grad = p.grad.coalesce()
        dense = [p for p in params if not p.grad.is_sparse]
        norms = [p.grad._values().norm(p=2, dtype=torch.float32) for p in sparse]
        if dense:
            norms.append(utils.clip_grad_norm_(dense, max_norm=0))  # fairseq's norm, no clip
        total_norm = torch.stack([n.to(norms[0].device) for n in norms]).norm()
        if aggregate_norm_fn is not None:
            total_norm = aggregate_norm_fn(total_norm)
        if max_norm > 0:
            clip_coef = (float(max_norm) / (total_norm + 1e-6)).clamp_(max=1)
            for p in sparse:
                p.grad.mul_(clip_coef)
            if dense:
                torch._foreach_mul_([p.grad for p in dense], clip_coef)
        return total_norm
