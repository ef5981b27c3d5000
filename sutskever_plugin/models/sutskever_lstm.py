"""The deep LSTM encoder-decoder of Sutskever, Vinyals & Le (2014), section 3.

One LSTM reads the (possibly reversed) source; its final hidden and cell states of every
layer are the whole "fixed-dimensional vector representation" of the sentence; a second
LSTM with its own weights starts from exactly those states and predicts the target.
There is no attention and no input feeding: that is what the paper tested.
"""
import logging
from typing import Dict, Optional

import torch
import torch.nn as nn
from torch import Tensor

from fairseq.models import (
    FairseqEncoder,
    FairseqEncoderDecoderModel,
    FairseqIncrementalDecoder,
    register_model,
    register_model_architecture,
)

from ..checkpoint_check import check_weights
from ..criterions.sutskever_cross_entropy import LOSS_SUMMED
from ..errors import ConfigError
from .fast_dropout import DropoutLSTM, FastDropout
from .fused_softmax import ProjectLogSoftmax, ProjectNLL, ReusedBuffers, fused_dtype
from .training_autocast import TrainingAutocast, add_autocast_arg

logger = logging.getLogger(__name__)

DEFAULT_MAX_POSITIONS = int(1e5)  # an LSTM has no positional limit; as fairseq's lstm
# key of the decoder's extra output saying that net_output[0] holds log-probabilities
NORMALIZED = "log_probs_normalized"


def _right_padded(src_tokens: Tensor, pad_mask: Tensor, lengths: Tensor) -> Tensor:
    """Padding moved to the right end on the device (fairseq's
    ``utils.convert_padding_direction`` costs two host synchronisations)."""
    max_len = src_tokens.size(1)
    shift = torch.where(pad_mask[:, 0], max_len - lengths, torch.zeros_like(lengths))
    index = torch.arange(max_len, device=src_tokens.device).unsqueeze(0) + shift.unsqueeze(1)
    return src_tokens.gather(1, index.remainder_(max_len))


class SutskeverEncoder(FairseqEncoder):
    """Embedding -> L-layer unidirectional LSTM; returns the final (h, c) of every layer.

    The state is taken at each sentence's true last token, whichever side the batch is
    padded on: padding never enters the recurrence (packed sequences), so the vector a
    sentence gets does not depend on the other sentences in its batch.
    """

    def __init__(self, dictionary, embed_dim, hidden_size, num_layers, dropout_in,
                 dropout_out, max_source_positions=DEFAULT_MAX_POSITIONS, sparse_grads=False):
        super().__init__(dictionary)
        self.padding_idx = dictionary.pad()
        self.num_layers = num_layers
        self.hidden_size = hidden_size
        self.max_source_positions = max_source_positions
        self.embed_tokens = nn.Embedding(len(dictionary), embed_dim, self.padding_idx,
                                         sparse=sparse_grads)
        self.dropout_in_module = FastDropout(dropout_in, module_name=self.__class__.__name__)
        self.lstm = DropoutLSTM(
            input_size=embed_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout_out if num_layers > 1 else 0.0,
        )

    def forward(self, src_tokens: Tensor, src_lengths: Optional[Tensor] = None, **kwargs):
        # one host-device synchronisation per batch, the copy of the lengths to the host
        # (tests/test_model.py counts them)
        pad_mask = src_tokens.eq(self.padding_idx)
        lengths = (~pad_mask).sum(dim=1)
        lengths_host = lengths.cpu()
        if int(lengths_host.min()) == src_tokens.size(1):
            # no padding: embedding the transposed tokens gives a contiguous T x B x C input
            x = self.dropout_in_module(self.embed_tokens(src_tokens.t()))
            _, (final_h, final_c) = self.lstm(x)
        else:
            src_tokens = _right_padded(src_tokens, pad_mask, lengths)
            final_h, final_c = self._run_by_length(src_tokens, lengths.clamp(min=1),
                                                   lengths_host.clamp(min=1))
        return {"final_hidden": final_h, "final_cell": final_c}  # each L x B x H

    def _run_by_length(self, src_tokens: Tensor, lengths: Tensor, lengths_host: Tensor):
        """The LSTM over a right-padded batch, never fed padding: the steps up to the
        shortest length run fused for the whole batch, only the rest as a packed sequence
        (on CPU a packed sequence is a per-step loop). Decisions are taken on
        ``lengths_host``; the permutation is sorted on the device."""
        lengths_sorted, order = lengths_host.sort(descending=True, stable=True)
        longest, shortest = int(lengths_sorted[0]), int(lengths_sorted[-1])
        bsz = lengths_sorted.numel()
        if bool((lengths_host[1:] <= lengths_host[:-1]).all()):
            order = None  # fairseq's collater already sorts by source length
        else:
            order = lengths.sort(descending=True, stable=True)[1]
            src_tokens = src_tokens.index_select(0, order)
        x = self.dropout_in_module(self.embed_tokens(src_tokens[:, :longest].t()))  # T x B x C
        head, tail = x.split([shortest, longest - shortest], dim=0)
        _, (final_h, final_c) = self.lstm(head)
        running = int((lengths_sorted > shortest).sum())  # a prefix of the sorted batch
        if running:
            tail_lengths = lengths_sorted[:running] - shortest
            packed = nn.utils.rnn.pack_padded_sequence(
                tail.narrow(1, 0, running), tail_lengths, enforce_sorted=True
            )
            state = (final_h[:, :running].contiguous(), final_c[:, :running].contiguous())
            _, (tail_h, tail_c) = self.lstm(packed, state)
            final_h = torch.cat([tail_h, final_h[:, running:]], dim=1)
            final_c = torch.cat([tail_c, final_c[:, running:]], dim=1)
        if order is not None:
            inverse = torch.empty_like(order)
            inverse[order] = torch.arange(bsz, device=order.device)
            final_h, final_c = final_h.index_select(1, inverse), final_c.index_select(1, inverse)
        return final_h, final_c

    def reorder_encoder_out(self, encoder_out: Dict[str, Tensor], new_order: Tensor):
        return {k: v.index_select(1, new_order) for k, v in encoder_out.items()}

    def max_positions(self):
        return self.max_source_positions


class SutskeverDecoder(FairseqIncrementalDecoder):
    """An L-layer LSTM language model of the target, conditioned only through its
    initial state, which is the encoder's final (h, c) of every layer."""

    def __init__(self, dictionary, embed_dim, hidden_size, num_layers, dropout_in,
                 dropout_out, max_target_positions=DEFAULT_MAX_POSITIONS, sparse_grads=False):
        super().__init__(dictionary)
        self.max_target_positions = max_target_positions
        self.embed_tokens = nn.Embedding(len(dictionary), embed_dim, dictionary.pad(),
                                         sparse=sparse_grads)
        self.dropout_in_module = FastDropout(dropout_in, module_name=self.__class__.__name__)
        self.dropout_out_module = FastDropout(dropout_out, module_name=self.__class__.__name__)
        self.lstm = DropoutLSTM(
            input_size=embed_dim,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout_out if num_layers > 1 else 0.0,
        )
        # the paper's softmax over the whole target vocabulary
        self.output_projection = nn.Linear(hidden_size, len(dictionary))
        self._softmax_buffers = ReusedBuffers()

    def forward(self, prev_output_tokens, encoder_out=None, incremental_state=None,
                loss_target=None, label_smoothing=0.0, **kwargs):
        x = self.extract_features(prev_output_tokens, encoder_out, incremental_state)
        proj = self.output_projection
        dtype = fused_dtype(x, self.training) if x.dim() == 3 else None
        if dtype is not None:
            # CPU training: projection and log-softmax in one step over reused memory
            # (fused_softmax.py); the output is already normalised, and says so
            bsz, tgt_len, _ = x.shape
            x, buffers = x.reshape(bsz * tgt_len, -1), self._softmax_buffers
            if loss_target is not None:
                # told the targets (criteria sutskever_cross_entropy and
                # sutskever_label_smoothed_cross_entropy): the summed loss and NLL, over
                # the real target positions only (padding has no loss and no gradient)
                pad, target = self.dictionary.pad(), loss_target.reshape(-1)
                real = target.ne(pad)
                if not bool(real.all()):
                    rows = real.nonzero().squeeze(1)
                    x, target = x.index_select(0, rows), target.index_select(0, rows)
                loss, nll = ProjectNLL.apply(x, proj.weight, proj.bias, target, buffers,
                                             dtype, label_smoothing)
                return loss, {"attn": [None], LOSS_SUMMED: [nll]}
            lprobs = ProjectLogSoftmax.apply(x, proj.weight, proj.bias, buffers, dtype)
            return lprobs.view(bsz, tgt_len, -1), {"attn": [None], NORMALIZED: [None]}
        return self.output_layer(x), None

    def get_normalized_probs(self, net_output, log_probs, sample=None):
        if net_output[1] is not None and NORMALIZED in net_output[1]:
            return net_output[0] if log_probs else net_output[0].exp()
        return super().get_normalized_probs(net_output, log_probs, sample)

    def extract_features(self, prev_output_tokens, encoder_out, incremental_state=None, **kwargs):
        state = None
        if incremental_state is not None:
            state = self.get_incremental_state(incremental_state, "lstm_state")
            if state is not None:
                # one new token per step; the recurrence carries everything before it
                prev_output_tokens = prev_output_tokens[:, -1:]
        if state is None:
            state = (encoder_out["final_hidden"], encoder_out["final_cell"])
        # embedding the transposed tokens gives the LSTM a contiguous T x B x C input
        x = self.dropout_in_module(self.embed_tokens(prev_output_tokens.t()))
        if x.size(0) == 1 and not self.training and x.device.type == "cpu":
            x, (h, c) = self._one_step(x, state)
        else:
            # teacher forcing runs the fused multi-layer LSTM over the whole target at once
            x, (h, c) = self.lstm(x, (state[0].contiguous(), state[1].contiguous()))
        if incremental_state is not None:
            self.set_incremental_state(incremental_state, "lstm_state", (h, c))
        return self.dropout_out_module(x).transpose(0, 1)  # B x T x H

    def _one_step(self, x, state):
        """``self.lstm`` on one step (beam search) as a cell per layer: on CPU the fused
        oneDNN LSTM re-lays out every weight matrix on each call, as costly as the step."""
        inp, hs, cs = x[0], [], []
        weights = self.lstm._flat_weights
        for layer in range(self.lstm.num_layers):
            w_ih, w_hh, b_ih, b_hh = weights[4 * layer: 4 * layer + 4]
            h, c = torch.lstm_cell(inp, (state[0][layer], state[1][layer]), w_ih, w_hh, b_ih, b_hh)
            hs.append(h)
            cs.append(c)
            inp = h  # no inter-layer dropout in eval mode
        return inp.unsqueeze(0), (torch.stack(hs), torch.stack(cs))

    def output_layer(self, features):
        proj = self.output_projection
        if features.dim() == 3:
            # one (B*T) x H matmul with the bias folded in (addmm) instead of a 3-D linear,
            # which adds the bias in a second pass over the B x T x V logits
            bsz, tgt_len, _ = features.shape
            logits = torch.addmm(proj.bias, features.reshape(bsz * tgt_len, -1), proj.weight.t())
            return logits.view(bsz, tgt_len, -1)
        return proj(features)

    def reorder_incremental_state(self, incremental_state, new_order):
        state = self.get_incremental_state(incremental_state, "lstm_state")
        if state is None:
            return
        state = tuple(s.index_select(1, new_order) for s in state)
        self.set_incremental_state(incremental_state, "lstm_state", state)

    def max_positions(self):
        return self.max_target_positions


@register_model("sutskever_lstm")
class SutskeverLSTMModel(TrainingAutocast, FairseqEncoderDecoderModel):
    # the decoder takes ``loss_target`` and then may return the summed loss itself
    # (criterion sutskever_cross_entropy; CPU training only, see SutskeverDecoder.forward)
    accepts_loss_target = True

    def __init__(self, encoder, decoder, source_reversed=False, autocast_bf16=False):
        super().__init__(encoder, decoder)
        self.autocast_bf16 = autocast_bf16
        # Checked on loading (checkpoint_check.py). A float, not a bool: fairseq's
        # average_checkpoints.py divides every tensor, and a mean of reversed and forward
        # models comes out fractional and is refused.
        self.register_buffer("source_reversed", torch.tensor(float(bool(source_reversed))))

    @staticmethod
    def add_args(parser):
        # the same flag names as fairseq's built-in ``lstm``, so users can switch
        # fmt: off
        parser.add_argument('--dropout', type=float, metavar='D',
                            help='dropout probability (paper: 0)')
        parser.add_argument('--encoder-embed-dim', type=int, metavar='N',
                            help='encoder embedding dimension')
        parser.add_argument('--encoder-hidden-size', type=int, metavar='N',
                            help='encoder hidden size')
        parser.add_argument('--encoder-layers', type=int, metavar='N',
                            help='number of encoder layers')
        parser.add_argument('--encoder-dropout-in', type=float, metavar='D',
                            help='dropout probability for encoder input embedding')
        parser.add_argument('--encoder-dropout-out', type=float, metavar='D',
                            help='dropout probability between encoder layers')
        parser.add_argument('--decoder-embed-dim', type=int, metavar='N',
                            help='decoder embedding dimension')
        parser.add_argument('--decoder-hidden-size', type=int, metavar='N',
                            help='decoder hidden size')
        parser.add_argument('--decoder-layers', type=int, metavar='N',
                            help='number of decoder layers')
        parser.add_argument('--decoder-dropout-in', type=float, metavar='D',
                            help='dropout probability for decoder input embedding')
        parser.add_argument('--decoder-dropout-out', type=float, metavar='D',
                            help='dropout probability between decoder layers and before the softmax')
        parser.add_argument('--init-range', type=float, metavar='R',
                            help='initialise every parameter uniformly in [-R, R] (paper: 0.08)')
        add_autocast_arg(parser)
        parser.add_argument('--sparse-embedding-grads', action='store_true',
                            help='give the embedding tables sparse gradients (only the rows '
                                 'of the batch\'s words), with --optimizer sutskever_sgd; '
                                 'the same updates, less work where the vocabularies are '
                                 'large (paper size: 240M of the 384M parameters). Not with '
                                 '--fp16, --bf16, their --memory-efficient-* variants, '
                                 '--amp or several workers')
        # fmt: on

    @classmethod
    def build_model(cls, args, task):
        base_architecture(args)
        _check_sizes(args)
        _check_sparse_grads(args)
        max_src = getattr(args, "max_source_positions", DEFAULT_MAX_POSITIONS)
        max_tgt = getattr(args, "max_target_positions", DEFAULT_MAX_POSITIONS)
        encoder = SutskeverEncoder(
            task.source_dictionary, args.encoder_embed_dim, args.encoder_hidden_size,
            args.encoder_layers, args.encoder_dropout_in, args.encoder_dropout_out,
            max_source_positions=max_src, sparse_grads=args.sparse_embedding_grads,
        )
        decoder = SutskeverDecoder(
            task.target_dictionary, args.decoder_embed_dim, args.decoder_hidden_size,
            args.decoder_layers, args.decoder_dropout_in, args.decoder_dropout_out,
            max_target_positions=max_tgt, sparse_grads=args.sparse_embedding_grads,
        )
        model = cls(encoder, decoder, source_reversed=getattr(task, "reverses_source", False),
                    autocast_bf16=args.autocast_bf16)
        model.init_uniform(args.init_range)
        return model

    def init_uniform(self, r):
        """Section 3.4: "We initialized all of the LSTM's parameters with the uniform
        distribution between -0.08 and 0.08"."""
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-r, r)
            for emb in (self.encoder.embed_tokens, self.decoder.embed_tokens):
                emb.weight[emb.padding_idx].zero_()

    def encode(self, src_tokens, src_lengths=None):
        """The sentence vector: final (h, c) of every layer, B x (2 * L * H)."""
        out = self.encoder(src_tokens, src_lengths)
        h, c = out["final_hidden"], out["final_cell"]
        return torch.cat([h, c], dim=0).transpose(0, 1).reshape(h.size(1), -1)

    def load_state_dict(self, state_dict, strict=True, model_cfg=None, args=None):
        check_weights(self, state_dict)
        return super().load_state_dict(state_dict, strict=strict, model_cfg=model_cfg, args=args)


def _check_sizes(args):
    if args.encoder_layers != args.decoder_layers:
        raise ConfigError(
            f"--encoder-layers ({args.encoder_layers}) must equal --decoder-layers "
            f"({args.decoder_layers}): the decoder starts from the encoder's final state "
            "of every layer"
        )
    if args.encoder_hidden_size != args.decoder_hidden_size:
        raise ConfigError(
            f"--encoder-hidden-size ({args.encoder_hidden_size}) must equal "
            f"--decoder-hidden-size ({args.decoder_hidden_size}): the decoder starts from "
            "the encoder's final (h, c)"
        )


# fairseq's precision flags, each with why sparse embedding gradients cannot go through it
PRECISION_FLAGS_WITHOUT_SPARSE = {
    "memory_efficient_fp16": "fairseq then keeps no fp32 weights and unscales and clips the "
                             "fp16 gradients through its loss scaler, a path never run with "
                             "sparse gradients",
    "memory_efficient_bf16": "fairseq then keeps no fp32 weights and updates the bf16 "
                             "parameters through its loss-scaling optimizer, a path never run "
                             "with sparse gradients",
    "fp16": "fairseq's FP16Optimizer copies every gradient into one flat fp32 buffer "
            "(a sparse tensor has no flat view to copy)",
    "bf16": "fairseq's FP16Optimizer copies each bf16 gradient into a dense fp32 gradient "
            "(torch cannot copy a sparse tensor into a dense one)",
    "amp": "fairseq's AMPOptimizer unscales the gradients with torch's GradScaler on the "
           "GPU, a path never run with sparse gradients",
}


def _check_sparse_grads(args):
    """Sparse gradients only where they reach an optimizer that takes them."""
    if not args.sparse_embedding_grads:
        return
    optimizer = getattr(args, "optimizer", None)  # absent when a model is built outside fairseq-train
    if optimizer is not None and optimizer != "sutskever_sgd":
        raise ConfigError(
            f"--sparse-embedding-grads needs --optimizer sutskever_sgd (got --optimizer "
            f"{optimizer}): fairseq's gradient clipping and its other optimizers cannot take "
            "sparse gradients"
        )
    # the most specific flag first: fairseq's option parsing also sets fp16 / bf16 when
    # their memory-efficient variants are given, and the message should name what was typed
    for flag in PRECISION_FLAGS_WITHOUT_SPARSE:
        if getattr(args, flag, False):
            raise ConfigError(
                f"--sparse-embedding-grads does not work with --{flag.replace('_', '-')}: "
                f"{PRECISION_FLAGS_WITHOUT_SPARSE[flag]}; train in fp32 or leave "
                "--sparse-embedding-grads out"
            )
    if getattr(args, "distributed_world_size", 1) > 1:
        raise ConfigError(
            "--sparse-embedding-grads does not work with several GPUs "
            f"(--distributed-world-size {args.distributed_world_size}): data-parallel "
            "training all-reduces dense gradients; leave it out"
        )


# Architecture functions only set defaults; flags given on the command line win.
@register_model_architecture("sutskever_lstm", "sutskever_lstm")
def base_architecture(args):
    """The paper's model: 4 layers, 1000 cells, 1000-d embeddings, no dropout."""
    args.dropout = getattr(args, "dropout", 0.0)
    args.encoder_embed_dim = getattr(args, "encoder_embed_dim", 1000)
    args.encoder_hidden_size = getattr(args, "encoder_hidden_size", 1000)
    args.encoder_layers = getattr(args, "encoder_layers", 4)
    args.encoder_dropout_in = getattr(args, "encoder_dropout_in", args.dropout)
    args.encoder_dropout_out = getattr(args, "encoder_dropout_out", args.dropout)
    args.decoder_embed_dim = getattr(args, "decoder_embed_dim", args.encoder_embed_dim)
    args.decoder_hidden_size = getattr(args, "decoder_hidden_size", args.encoder_hidden_size)
    args.decoder_layers = getattr(args, "decoder_layers", args.encoder_layers)
    args.decoder_dropout_in = getattr(args, "decoder_dropout_in", args.dropout)
    args.decoder_dropout_out = getattr(args, "decoder_dropout_out", args.dropout)
    args.init_range = getattr(args, "init_range", 0.08)
    args.autocast_bf16 = getattr(args, "autocast_bf16", False)
    args.sparse_embedding_grads = getattr(args, "sparse_embedding_grads", False)


@register_model_architecture("sutskever_lstm", "sutskever_lstm_medium")
def medium_architecture(args):
    """The paper's structure (4 layers, embeddings as wide as the cells) at 500 cells."""
    args.encoder_layers = getattr(args, "encoder_layers", 4)
    args.encoder_embed_dim = getattr(args, "encoder_embed_dim", 500)
    args.encoder_hidden_size = getattr(args, "encoder_hidden_size", 500)
    base_architecture(args)


@register_model_architecture("sutskever_lstm", "sutskever_lstm_small")
def small_architecture(args):
    """The small scale's model (scripts/recipe_small.sh): 2 layers, 512 cells, 256-d
    embeddings, dropout 0.3."""
    args.encoder_layers = getattr(args, "encoder_layers", 2)
    args.encoder_embed_dim = getattr(args, "encoder_embed_dim", 256)
    args.encoder_hidden_size = getattr(args, "encoder_hidden_size", 512)
    args.dropout = getattr(args, "dropout", 0.3)
    base_architecture(args)


@register_model_architecture("sutskever_lstm", "sutskever_lstm_tiny")
def tiny_architecture(args):
    """The tiny scale's model (scripts/reproduce_table1.sh --scale tiny): 2 layers, 64
    cells, 64-d embeddings, no dropout."""
    args.encoder_layers = getattr(args, "encoder_layers", 2)
    args.encoder_embed_dim = getattr(args, "encoder_embed_dim", 64)
    args.encoder_hidden_size = getattr(args, "encoder_hidden_size", 64)
    base_architecture(args)
