"""fairseq's ``adam`` stepped by torch's fused CPU kernel (``torch.optim.AdamW(fused=True)``)
instead of fairseq's Python loop of about ten tensor operations per parameter
(results/benchmark.md). Not the paper's optimizer (scripts/reproduce_table1.sh says why
the small recipe uses Adam). Same flags, defaults and algorithm (decoupled weight decay),
except that torch adds ``--adam-eps`` after the bias correction, fairseq before it
(tests/test_optim.py bounds the difference).
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
