"""fairseq's ``cross_entropy`` (the paper's objective) with the loss computed inside the
output softmax (``fused_softmax.ProjectNLL``): the same loss and gradients (tested)
without a fresh [tokens x vocab] log-probability and gradient tensor per CPU training
step (results/benchmark.md). Where the model does not offer it (fairseq's own models,
validation, beam search, GPUs, ``reduce=False``) this is exactly ``cross_entropy``.
"""
from fairseq.criterions import register_criterion
from fairseq.criterions.cross_entropy import CrossEntropyCriterion, CrossEntropyCriterionConfig

# the decoder's extra-output key saying that net_output[0] is already the summed loss
# (its value: [the summed NLL], equal to the loss without label smoothing)
LOSS_SUMMED = "nll_loss_summed"


def with_loss_target(model, sample, **decoder_kwargs):
    """``sample`` with the targets (and ``decoder_kwargs``) added to the model's input,
    for a model that can then return the summed loss itself (``accepts_loss_target``)."""
    if not getattr(model, "accepts_loss_target", False):
        return sample
    # the model's forward passes its keyword arguments on to the decoder
    extra = {"loss_target": model.get_targets(sample, None), **decoder_kwargs}
    return {**sample, "net_input": {**sample["net_input"], **extra}}


class SummedLoss:
    """Mixin before a fairseq criterion: its loss (and NLL) as the model returned them."""

    def compute_loss(self, model, net_output, sample, reduce=True):
        extra = net_output[1]
        if isinstance(extra, dict) and LOSS_SUMMED in extra:
            return net_output[0], extra[LOSS_SUMMED][0]
        return super().compute_loss(model, net_output, sample, reduce=reduce)


@register_criterion("sutskever_cross_entropy", dataclass=CrossEntropyCriterionConfig)
class SutskeverCrossEntropyCriterion(SummedLoss, CrossEntropyCriterion):
    def forward(self, model, sample, reduce=True):
        if reduce:
            sample = with_loss_target(model, sample)
        return super().forward(model, sample, reduce=reduce)
