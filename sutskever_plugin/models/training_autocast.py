"""``--autocast-bf16``: the training forward (and so its backward) in CPU bf16 autocast,
for sutskever_lstm and lstm_autocast. Parameters, gradients, the optimizer and the loss
stay fp32; evaluation, scoring and beam search (eval mode) stay fp32.
"""
import torch


def add_autocast_arg(parser):
    parser.add_argument('--autocast-bf16', action='store_true',
                        help='CPU training only: run the forward pass (and so its backward) '
                             'in bfloat16 autocast; parameters, gradients and the optimizer '
                             'stay fp32, validation and decoding stay fp32. Fast on CPUs '
                             'with AMX or AVX512-BF16, slow elsewhere; on GPUs use '
                             "fairseq's --fp16 / --amp instead (ignored there)")


class TrainingAutocast:
    """Mixin before a FairseqEncoderDecoderModel: ``self.autocast_bf16`` puts forward()
    (which the criterion calls) under bf16 autocast while training on CPU."""

    autocast_bf16 = False

    def forward(self, src_tokens, src_lengths, prev_output_tokens, **kwargs):
        bf16 = self.autocast_bf16 and self.training and src_tokens.device.type == "cpu"
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return super().forward(src_tokens, src_lengths, prev_output_tokens, **kwargs)
