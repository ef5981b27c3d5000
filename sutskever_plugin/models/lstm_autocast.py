"""fairseq's built-in ``lstm`` (unchanged flags, defaults and parameters) with
sutskever_lstm's ``--autocast-bf16``: Table 1's attention analogue trained in fp32 cost
the small-scale main job about three times the CPU time of one of our bf16 LSTMs
(results/job_time_small.md).
"""
from fairseq.models import register_model, register_model_architecture
from fairseq.models.lstm import LSTMModel, base_architecture

from .training_autocast import TrainingAutocast, add_autocast_arg


@register_model("lstm_autocast")
class AutocastLSTMModel(TrainingAutocast, LSTMModel):
    def __init__(self, encoder, decoder, autocast_bf16=False):
        super().__init__(encoder, decoder)
        self.autocast_bf16 = autocast_bf16

    @staticmethod
    def add_args(parser):
        LSTMModel.add_args(parser)
        add_autocast_arg(parser)

    @classmethod
    def build_model(cls, args, task):
        built = LSTMModel.build_model(args, task)
        return cls(built.encoder, built.decoder,
                   autocast_bf16=getattr(args, "autocast_bf16", False))


@register_model_architecture("lstm_autocast", "lstm_autocast")
def lstm_autocast(args):
    base_architecture(args)
