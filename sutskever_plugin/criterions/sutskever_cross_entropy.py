"""fairseq's ``cross_entropy`` with the loss computed inside the output softmax.

The paper's objective is fairseq's: the summed log-probability of each correct
translation. Computed the stock way, a CPU training step writes the log-probabilities
of every target position over the whole vocabulary, then ``nll_loss``'s backward
allocates a zero-filled [tokens x vocab] gradient with one -1 per row, and the
log-softmax backward reads it back with the log-probabilities. When the model is told the
targets it needs neither: the loss is a gather from the log-probabilities, and their
gradient is ``softmax - onehot(target)``, written over the log-probabilities in place
(``fused_softmax.ProjectNLL``). Same loss and gradients (tested), less memory traffic and
no fresh [tokens x vocab] tensor per step (results/benchmark.md).

Where the model does not offer it (fairseq's own models, validation, beam search, GPUs,
``reduce=False``) this is exactly ``cross_entropy``.
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


def summed_loss(net_output):
    """(loss, NLL) where the model returned the summed loss itself, else None."""
    extra = net_output[1]
    if isinstance(extra, dict) and LOSS_SUMMED in extra:
        return net_output[0], extra[LOSS_SUMMED][0]
    return None


@register_criterion("sutskever_cross_entropy", dataclass=CrossEntropyCriterionConfig)
class SutskeverCrossEntropyCriterion(CrossEntropyCriterion):
    def forward(self, model, sample, reduce=True):
        if reduce:
            sample = with_loss_target(model, sample)
        return super().forward(model, sample, reduce=reduce)

    def compute_loss(self, model, net_output, sample, reduce=True):
        fused = summed_loss(net_output)  # (loss, NLL): equal without label smoothing
        if fused is not None:
            return fused
        return super().compute_loss(model, net_output, sample, reduce=reduce)
