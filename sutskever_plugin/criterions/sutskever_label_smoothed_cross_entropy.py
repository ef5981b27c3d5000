"""fairseq's ``label_smoothed_cross_entropy`` with the loss computed inside the output
softmax, as ``sutskever_cross_entropy`` does for the plain loss.

Label smoothing is not in the paper: the small-scale recipe may take it as a small-data
aid chosen on the validation set (issue #14). Computed the stock way it costs a training
step the [tokens x vocab] log-probabilities, the gradient tensor of the gather and of the
sum over the vocabulary, and their pass back through the log-softmax; told the targets
and epsilon, the decoder returns the smoothed loss and the NLL from
``fused_softmax.ProjectNLL``, whose backward writes ``softmax - q`` (q the smoothed target
distribution) over the log-probabilities in place. Same loss, NLL and gradients (tested).

Where the model does not offer it (fairseq's own models, validation, beam search, GPUs,
``reduce=False``, ``--report-accuracy``, ``--ignore-prefix-size``) this is exactly
``label_smoothed_cross_entropy``.
"""
from fairseq.criterions import register_criterion
from fairseq.criterions.label_smoothed_cross_entropy import (
    LabelSmoothedCrossEntropyCriterion, LabelSmoothedCrossEntropyCriterionConfig)

from .sutskever_cross_entropy import summed_loss, with_loss_target


@register_criterion("sutskever_label_smoothed_cross_entropy",
                    dataclass=LabelSmoothedCrossEntropyCriterionConfig)
class SutskeverLabelSmoothedCrossEntropyCriterion(LabelSmoothedCrossEntropyCriterion):
    def forward(self, model, sample, reduce=True):
        # accuracy needs the log-probabilities, and a prefix would change the targets
        if reduce and not self.report_accuracy and self.ignore_prefix_size == 0:
            sample = with_loss_target(model, sample, label_smoothing=self.eps)
        return super().forward(model, sample, reduce=reduce)

    def compute_loss(self, model, net_output, sample, reduce=True):
        fused = summed_loss(net_output)
        if fused is not None:
            return fused
        return super().compute_loss(model, net_output, sample, reduce=reduce)
