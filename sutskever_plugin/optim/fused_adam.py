"""fairseq's ``adam``, stepped by torch's fused Adam kernel (``--optimizer fused_adam``).

Not the paper's optimizer: the small-scale recipe departs to Adam (scripts/
reproduce_table1.sh says why). fairseq's ``adam`` already steps through a fused kernel
on GPUs (apex's FusedAdam); on a CPU it falls back to a Python loop of about ten tensor
operations per parameter (fairseq/optim/adam.py), a visible share of a bf16 training
step of the small recipe (results/benchmark_profile.md). torch's fused CPU kernel
(``torch.optim.AdamW(fused=True)``, torch >= 2.4) does the same in one pass; what it
gives a training step is measured side by side in results/benchmark.md ("The small-scale
main job's recipe").

Same flags, defaults and algorithm as fairseq's ``adam`` (its weight decay is AdamW's,
decoupled from the gradient, as fairseq's docstring says). One difference, within
rounding of fp32 in practice: torch adds ``--adam-eps`` to sqrt(v) after the bias
correction, fairseq before it (an eps effectively 1/sqrt(1 - beta2^t) times larger in
the first updates; tests/test_optim.py bounds the difference).
"""
import torch

from fairseq.optim import FairseqOptimizer, register_optimizer
from fairseq.optim.adam import FairseqAdam, FairseqAdamConfig


@register_optimizer("fused_adam", dataclass=FairseqAdamConfig)
class FusedAdam(FairseqAdam):
    def __init__(self, cfg: FairseqAdamConfig, params):
        if getattr(cfg, "fp16_adam_stats", False):
            raise ValueError("--optimizer fused_adam does not take --fp16-adam-stats "
                             "(fairseq's apex FusedAdamV1 only); use --optimizer adam")
        FairseqOptimizer.__init__(self, cfg)  # FairseqAdam's own would build its optimizer
        self._optimizer = torch.optim.AdamW(params, fused=True, **self.optimizer_config)
