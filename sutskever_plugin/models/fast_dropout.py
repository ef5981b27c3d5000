"""Dropout whose CPU mask costs a quarter of a random number per element.

torch's CPU dropout draws one mt19937 number per element (``aten::bernoulli_``, a good
share of a bf16 training step of the small recipe). Here each 64-bit draw gives four
15-bit uniforms; the keep probability is 1 - p rounded to a multiple of 2^-15 and kept
elements are scaled by its inverse, so the expected output is the input. Elsewhere (GPUs,
evaluation) it is fairseq's ``FairseqDropout`` and ``nn.LSTM``'s own dropout. Measured in
results/benchmark.md ("The small-scale main job's recipe").
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor, _VF
from torch.nn.utils.rnn import PackedSequence

from fairseq.modules import FairseqDropout

LEVELS = 1 << 15  # uniforms per draw chunk


def keep_mask(shape, p: float, device=None, dtype=torch.float32) -> Tensor:
    """A {0, 1/q} tensor of ``shape`` (q = the kept fraction, p rounded as above)."""
    n = 1
    for s in shape:
        n *= s
    threshold = round((1.0 - p) * LEVELS)
    bits = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_()
    bits = bits.view(torch.int16)[:n].bitwise_and_(LEVELS - 1)
    mask = bits.lt_(threshold).view(shape).to(dtype)
    return mask.mul_(LEVELS / threshold) if threshold else mask


def dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """``F.dropout(x, p, training)`` with the cheaper mask on CPU."""
    if not training or p <= 0.0 or x.device.type != "cpu":
        return F.dropout(x, p, training)
    if p >= 1.0:
        return x * 0.0
    return x * keep_mask(x.shape, p, x.device, x.dtype)


class FastDropout(FairseqDropout):
    """fairseq's dropout module (same flags and inference behaviour), CPU mask as above."""

    def forward(self, x: Tensor, inplace: bool = False) -> Tensor:
        if self.p > 0 and (self.training or self.apply_during_inference):
            return dropout(x, self.p, True)
        return x


class DropoutLSTM(nn.LSTM):
    """``nn.LSTM`` (same parameters, same results) whose dropout between layers uses the
    cheaper mask in CPU training: the layers then run one call each, through the same
    per-layer kernel (oneDNN's ``mkldnn_rnn_layer``) that ``nn.LSTM`` runs them with,
    with ``dropout`` between them. Everywhere else it is ``nn.LSTM`` itself."""

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        data = input.data if packed else input
        if not (self.training and self.dropout > 0 and self.num_layers > 1
                and data.device.type == "cpu" and not self.bidirectional and not self.proj_size
                and not self.batch_first and (not packed or input.sorted_indices is None)):
            return super().forward(input, hx)
        if hx is None:
            bsz = int(input.batch_sizes[0]) if packed else data.size(1)
            zeros = data.new_zeros(self.num_layers, bsz, self.hidden_size)
            hx = (zeros, zeros)
        hs, cs = [], []
        for layer in range(self.num_layers):
            weights = self._flat_weights[4 * layer: 4 * layer + 4]
            state = (hx[0][layer: layer + 1], hx[1][layer: layer + 1])
            if packed:
                out, h, c = _VF.lstm(data, input.batch_sizes, state, weights, self.bias, 1,
                                     0.0, True, False)
            else:
                out, h, c = _VF.lstm(data, state, weights, self.bias, 1, 0.0, True, False, False)
            hs.append(h)
            cs.append(c)
            data = dropout(out, self.dropout, True) if layer < self.num_layers - 1 else out
        if packed:
            data = PackedSequence(data, input.batch_sizes, None, None)
        return data, (torch.cat(hs), torch.cat(cs))
