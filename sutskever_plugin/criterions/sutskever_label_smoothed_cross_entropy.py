"""fairseq's ``label_smoothed_cross_entropy`` with the loss computed inside the output
softmax, as ``sutskever_cross_entropy`` does for the plain loss (``ProjectNLL``'s backward
writes ``softmax - q`` in place; same loss, NLL and gradients, tested). Label smoothing is
not in the paper: the small-scale recipe takes it as a small-data aid (issue #14). Where
the model does not offer it (as for ``sutskever_cross_entropy``, and with
``--report-accuracy`` or ``--ignore-prefix-size``) this is exactly
``label_smoothed_cross_entropy``.
"""
from fairseq.criterions import register_criterion
from fairseq.criterions.label_smoothed_cross_entropy import (
    LabelSmoothedCrossEntropyCriterion, LabelSmoothedCrossEntropyCriterionConfig)

from .sutskever_cross_entropy import SummedLoss, with_loss_target


@register_criterion("sutskever_label_smoothed_cross_entropy",
                    dataclass=LabelSmoothedCrossEntropyCriterionConfig)
class SutskeverLabelSmoothedCrossEntropyCriterion(SummedLoss, LabelSmoothedCrossEntropyCriterion):
    def forward(self, model, sample, reduce=True):
        # accuracy needs the log-probabilities, and a prefix would change the targets
        if reduce and not self.report_accuracy and self.ignore_prefix_size == 0:
            sample = with_loss_target(model, sample, label_smoothing=self.eps)
        return super().forward(model, sample, reduce=reduce)
