"""``--autocast-bf16``: the training forward (and so its backward) in CPU bf16 autocast.

One home for the flag and the forward of both models that take it: sutskever_lstm and
lstm_autocast (fairseq's built-in ``lstm`` with the flag). On a CPU whose bf16 matmul is
several times its fp32 one, most of a training step's time (its matrix multiplies) runs
at the bf16 rate while parameters, gradients, the optimizer and the loss stay fp32.
Validation, scoring and beam search call the model in eval mode (or call its encoder and
decoder directly) and so stay fp32; a GPU uses fairseq's --fp16 / --amp instead.
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
    """Mixin before a FairseqEncoderDecoderModel: ``self.autocast_bf16`` (set by the
    model's constructor from ``--autocast-bf16``) puts forward() under bf16 autocast
    while training on CPU. The criterion calls forward(), so training comes through here."""

    autocast_bf16 = False

    def forward(self, src_tokens, src_lengths, prev_output_tokens, **kwargs):
        bf16 = self.autocast_bf16 and self.training and src_tokens.device.type == "cpu"
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return super().forward(src_tokens, src_lengths, prev_output_tokens, **kwargs)
