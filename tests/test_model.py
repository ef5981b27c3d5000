"""The sutskever_lstm architecture: size, init, encoder state, incremental decoding."""
import argparse

import pytest
import torch

from fairseq.data import Dictionary
from fairseq.models import ARCH_MODEL_REGISTRY, ARCH_CONFIG_REGISTRY

import sutskever_plugin  # noqa: F401  (registers the plugin)
from sutskever_plugin.checkpoint_check import CheckpointMismatchError
from sutskever_plugin.models.sutskever_lstm import SutskeverLSTMModel


def make_dict(n):
    d = Dictionary()
    for i in range(n - len(d)):
        d.add_symbol(f"w{i}")
    assert len(d) == n
    return d


class FakeTask:
    def __init__(self, src_n, tgt_n, reverses=False):
        self.source_dictionary, self.target_dictionary = make_dict(src_n), make_dict(tgt_n)
        self.reverses_source = reverses


def build(arch="sutskever_lstm_tiny", src_n=50, tgt_n=40, reverses=False, **flags):
    args = argparse.Namespace(arch=arch, **flags)
    ARCH_CONFIG_REGISTRY[arch](args)
    return ARCH_MODEL_REGISTRY[arch].build_model(args, FakeTask(src_n, tgt_n, reverses))


def test_paper_size_has_384m_parameters():
    # 160k source / 80k target words, 4 x 1000 LSTMs, 1000-d embeddings (section 3.4)
    model = build("sutskever_lstm", 160_000, 80_000)
    counts = {}
    for name, p in model.named_parameters():
        key = ("embed" if "embed_tokens" in name else "softmax" if "output_projection" in name
               else "lstm")
        counts[key] = counts.get(key, 0) + p.numel()
    assert counts["embed"] == 160_000 * 1000 + 80_000 * 1000
    assert counts["softmax"] == 80_000 * 1000 + 80_000  # weights + bias
    # 8 layers x 4 gates x (input + recurrent weights + 2 biases of nn.LSTM)
    assert counts["lstm"] == 8 * 4 * (1000 * 1000 + 1000 * 1000 + 2 * 1000)
    total = sum(counts.values())
    assert abs(total - 384e6) / 384e6 < 0.002, total
    assert model.encoder.lstm.num_layers == 4 and model.decoder.lstm.hidden_size == 1000


def test_parameters_uniform_in_008():
    model = build("sutskever_lstm_small", 300, 200)
    for name, p in model.named_parameters():
        assert p.abs().max() <= 0.08 + 1e-7, name
        if p.numel() > 1000:  # really uniform over the range, not a narrower init
            assert p.abs().max() > 0.079 and abs(p.mean()) < 0.005, name
            assert abs(p.std().item() - 0.16 / 12 ** 0.5) < 0.003, name


@pytest.mark.parametrize("arch, layers, cells, embed, dropout", [
    ("sutskever_lstm", 4, 1000, 1000, 0.0),        # the paper (section 3.4)
    ("sutskever_lstm_small", 2, 512, 256, 0.3),   # scripts/recipe_small.sh
    ("sutskever_lstm_tiny", 2, 64, 64, 0.0),      # reproduce_table1.sh --scale tiny
])
def test_registered_names_are_the_scales_models(arch, layers, cells, embed, dropout):
    args = argparse.Namespace(arch=arch)
    ARCH_CONFIG_REGISTRY[arch](args)
    assert (args.encoder_layers, args.decoder_layers) == (layers, layers)
    assert (args.encoder_hidden_size, args.decoder_hidden_size) == (cells, cells)
    assert (args.encoder_embed_dim, args.decoder_embed_dim) == (embed, embed)
    assert (args.encoder_dropout_out, args.decoder_dropout_out) == (dropout, dropout)


def test_flags_override_presets_like_builtin_lstm():
    model = build("sutskever_lstm_tiny", encoder_layers=3, encoder_hidden_size=24,
                  encoder_embed_dim=16, dropout=0.2)
    assert model.encoder.lstm.num_layers == model.decoder.lstm.num_layers == 3
    assert model.decoder.lstm.hidden_size == 24 and model.decoder.embed_tokens.embedding_dim == 16
    assert model.encoder.lstm.dropout == 0.2


@pytest.mark.parametrize("flags, message", [
    (dict(encoder_layers=2, decoder_layers=3), "--encoder-layers"),
    (dict(encoder_hidden_size=32, decoder_hidden_size=64), "--encoder-hidden-size"),
    (dict(sparse_embedding_grads=True, optimizer="sgd"), "needs --optimizer sutskever_sgd"),
    (dict(sparse_embedding_grads=True, optimizer="adam"), "needs --optimizer sutskever_sgd"),
    (dict(sparse_embedding_grads=True, optimizer="sutskever_sgd", distributed_world_size=2),
     "several GPUs"),
])
def test_inconsistent_flags_are_refused(flags, message):
    with pytest.raises(ValueError, match=message):
        build(**flags)


# fairseq's precision flags, as its own parser spells them: none carries sparse gradients
PRECISION_FLAGS = ["--fp16", "--memory-efficient-fp16", "--bf16", "--memory-efficient-bf16", "--amp"]


@pytest.mark.parametrize("flag", PRECISION_FLAGS)
def test_sparse_grads_refuse_every_precision_flag(flag):
    from fairseq import options
    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [
        "data-bin", "--user-dir", "sutskever_plugin", "--arch", "sutskever_lstm_tiny",
        "--optimizer", "sutskever_sgd", "--lr", "0.7", "--sparse-embedding-grads", flag])
    with pytest.raises(ValueError, match=f"--sparse-embedding-grads does not work with {flag}: "
                                         r".*; train in fp32 or leave --sparse-embedding-grads out"):
        SutskeverLSTMModel.build_model(args, FakeTask(50, 40))
    # the same flags without sparse gradients build the model
    args.sparse_embedding_grads = False
    SutskeverLSTMModel.build_model(args, FakeTask(50, 40))


def test_sparse_embedding_grads_make_the_look_up_gradients_sparse():
    model = build(sparse_embedding_grads=True, optimizer="sutskever_sgd")
    assert model.encoder.embed_tokens.sparse and model.decoder.embed_tokens.sparse
    assert not build().encoder.embed_tokens.sparse  # off by default


def padded(seqs, pad, left):
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), pad, dtype=torch.long)
    for i, s in enumerate(seqs):
        if left:
            out[i, width - len(s):] = torch.tensor(s)
        else:
            out[i, :len(s)] = torch.tensor(s)
    return out


@pytest.mark.parametrize("left_pad", [True, False])
@pytest.mark.parametrize("sorted_", [True, False])
def test_encoder_state_is_taken_at_the_true_last_token(left_pad, sorted_):
    torch.manual_seed(0)
    model = build().eval()
    pad = model.encoder.padding_idx
    seqs = [[5, 6, 7, 8, 9, 2], [10, 11, 2], [12, 2]]
    if not sorted_:  # the encoder sorts the batch itself (on the device) and restores the order
        seqs = [[12, 2], [5, 6, 7, 8, 9, 2], [13, 2], [10, 11, 2]]
    batch = padded(seqs, pad, left_pad)
    lengths = torch.tensor([len(s) for s in seqs])
    with torch.no_grad():
        out = model.encoder(batch, lengths)
        for i, s in enumerate(seqs):
            alone = model.encoder(torch.tensor([s]), torch.tensor([len(s)]))
            torch.testing.assert_close(out["final_hidden"][:, i], alone["final_hidden"][:, 0])
            torch.testing.assert_close(out["final_cell"][:, i], alone["final_cell"][:, 0])
    # the sentence vector is 2 x layers x cells numbers
    assert model.encode(batch, lengths).shape == (len(seqs), 2 * 2 * 64)


def test_decoder_starts_from_encoder_state():
    torch.manual_seed(0)
    model = build().eval()
    src_a, src_b = torch.tensor([[5, 6, 7, 2]]), torch.tensor([[9, 8, 7, 2]])
    prev = torch.tensor([[2, 5, 6]])
    with torch.no_grad():
        out_a = model(src_a, torch.tensor([4]), prev)[0]
        out_b = model(src_b, torch.tensor([4]), prev)[0]
    assert not torch.allclose(out_a, out_b)  # the source reaches the decoder


@pytest.mark.parametrize("left_pad", [True, False])
def test_incremental_decoding_matches_full_forward(left_pad):
    torch.manual_seed(0)
    model = build(src_n=60, tgt_n=45).eval()
    pad, eos = 1, 2
    src = padded([[5, 6, 7, 8, 2], [9, 10, 2]], pad, left_pad)
    # targets of different lengths, right padded as fairseq does
    prev = torch.tensor([[eos, 11, 12, 13, 14], [eos, 15, 16, pad, pad]])
    with torch.no_grad():
        enc = model.encoder(src, torch.tensor([5, 3]))
        full = model.get_normalized_probs(model.decoder(prev, enc), log_probs=True)
        state = {}
        steps = []
        for t in range(prev.size(1)):
            out = model.decoder(prev[:, : t + 1], enc, incremental_state=state)
            steps.append(model.get_normalized_probs(out, log_probs=True))
        inc = torch.cat(steps, dim=1)
    valid = prev.ne(pad)
    torch.testing.assert_close(inc[valid], full[valid], atol=1e-5, rtol=1e-5)


def test_reorder_incremental_state_follows_beams():
    torch.manual_seed(0)
    model = build().eval()
    src = torch.tensor([[5, 6, 2], [7, 8, 2]])
    prev = torch.tensor([[2, 9], [2, 10]])
    with torch.no_grad():
        enc = model.encoder(src, torch.tensor([3, 3]))
        state = {}
        model.decoder(prev[:, :1], enc, incremental_state=state)
        order = torch.tensor([1, 0])
        model.decoder.reorder_incremental_state_scripting(state, order)
        swapped = model.decoder(prev[order], model.encoder.reorder_encoder_out(enc, order),
                                incremental_state=state)[0]
        direct = model.decoder(prev[order], model.encoder.reorder_encoder_out(enc, order))[0]
    torch.testing.assert_close(swapped[:, -1], direct[:, -1], atol=1e-5, rtol=1e-5)


def test_state_dict_mismatches_are_explained():
    fwd = build(reverses=False)
    rev = build(reverses=True)
    with pytest.raises(CheckpointMismatchError, match="--task translation_reversed"):
        fwd.load_state_dict(rev.state_dict())
    with pytest.raises(CheckpointMismatchError, match="source vocabulary has 50 entries"):
        build(src_n=70).load_state_dict(fwd.state_dict())
    with pytest.raises(CheckpointMismatchError, match="another --arch"):
        build(encoder_layers=3).load_state_dict(fwd.state_dict())
    fwd.load_state_dict(build().state_dict())  # a matching checkpoint loads


def test_fused_softmax_equals_log_softmax_of_the_projection():
    from sutskever_plugin.models.fused_softmax import ProjectLogSoftmax, ReusedBuffers

    torch.manual_seed(0)
    bufs = ReusedBuffers()
    w = (torch.randn(300, 16) * 0.1).requires_grad_()
    b = (torch.randn(300) * 0.1).requires_grad_()
    for n in (37, 80, 12):  # buffers grow, then smaller requests reuse them
        x = torch.randn(n, 16, requires_grad=True)
        tgt = torch.randint(0, 300, (n,))
        got = {}
        for name in ("stock", "fused"):
            for p in (x, w, b):
                p.grad = None
            if name == "stock":
                lp = torch.log_softmax(torch.addmm(b, x, w.t()), -1)
            else:
                lp = ProjectLogSoftmax.apply(x, w, b, bufs)
            loss = torch.nn.functional.nll_loss(lp, tgt, reduction="sum")
            loss.backward()
            got[name] = [lp.detach().clone(), loss.detach(), x.grad, w.grad, b.grad]
        for a, c in zip(got["stock"], got["fused"]):
            assert torch.allclose(a, c, atol=1e-6, rtol=1e-6)


def test_fused_softmax_buffer_overwritten_before_backward_is_an_error():
    from sutskever_plugin.models.fused_softmax import ProjectLogSoftmax, ReusedBuffers

    bufs, w, b = ReusedBuffers(), torch.randn(50, 8, requires_grad=True), torch.zeros(50, requires_grad=True)
    first = ProjectLogSoftmax.apply(torch.randn(4, 8), w, b, bufs).sum()
    ProjectLogSoftmax.apply(torch.randn(4, 8), w, b, bufs)  # a second forward reuses the buffer
    with pytest.raises(RuntimeError, match="inplace"):
        first.backward()


def test_training_forward_uses_fused_softmax_with_the_same_loss_and_gradients():
    import copy

    torch.manual_seed(0)
    model = build("sutskever_lstm_tiny", 30, 25, dropout=0.0)
    src = torch.randint(4, 30, (3, 6))
    prev = torch.randint(4, 25, (3, 5))
    tgt = torch.randint(4, 25, (3, 5))
    lengths = torch.full((3,), 6)
    results = {}
    for mode in ("train", "eval"):  # eval mode + gradients: the plain logits path
        m = copy.deepcopy(model)
        getattr(m, mode)()
        out = m(src, lengths, prev)
        fused = out[1] is not None and "log_probs_normalized" in out[1]
        assert fused == (mode == "train")
        lprobs = m.get_normalized_probs(out, log_probs=True)
        assert torch.allclose(m.get_normalized_probs(out, log_probs=False), lprobs.exp())
        loss = torch.nn.functional.nll_loss(lprobs.view(-1, lprobs.size(-1)), tgt.view(-1), reduction="sum")
        loss.backward()
        results[mode] = (loss.item(), {n: p.grad.clone() for n, p in m.named_parameters()})
    assert results["train"][0] == pytest.approx(results["eval"][0], rel=1e-6)
    for name, g in results["train"][1].items():
        assert torch.allclose(g, results["eval"][1][name], atol=1e-6), name


def test_fused_softmax_under_bf16_autocast_equals_autocast_of_the_stock_path():
    from sutskever_plugin.models.fused_softmax import ProjectLogSoftmax, ReusedBuffers

    torch.manual_seed(0)
    bufs = ReusedBuffers()
    w = (torch.randn(300, 16) * 0.1).requires_grad_()
    b = (torch.randn(300) * 0.1).requires_grad_()
    for n in (37, 80, 12):
        x = torch.randn(n, 16).bfloat16().requires_grad_()  # an LSTM's output under autocast
        tgt = torch.randint(0, 300, (n,))
        got = {}
        for name in ("stock", "fused"):
            for p in (x, w, b):
                p.grad = None
            with torch.autocast("cpu", dtype=torch.bfloat16):
                if name == "stock":  # autocast's bf16 addmm, fairseq's float log_softmax
                    lp = torch.log_softmax(torch.addmm(b, x, w.t()).float(), -1)
                else:
                    lp = ProjectLogSoftmax.apply(x, w, b, bufs, torch.bfloat16)
            loss = torch.nn.functional.nll_loss(lp, tgt, reduction="sum")
            loss.backward()
            got[name] = [lp.detach().clone(), loss.detach(), x.grad, w.grad, b.grad]
        assert got["fused"][0].dtype == torch.float32 and got["fused"][2].dtype == torch.bfloat16
        for a, c in zip(got["stock"], got["fused"]):  # the same bf16 ops, bit for bit
            assert torch.equal(a, c)


@pytest.mark.parametrize("epsilon", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_fused_nll_equals_nll_loss_of_the_log_softmax(dtype, epsilon):
    """ProjectNLL (criteria sutskever_cross_entropy, sutskever_label_smoothed_cross_entropy)
    against fairseq's label_smoothed_nll_loss (F.nll_loss at epsilon 0) over the stock
    log-softmax: the same loss, NLL and gradients, padding rows ignored, any loss gradient."""
    from fairseq.criterions.label_smoothed_cross_entropy import label_smoothed_nll_loss

    from sutskever_plugin.models.fused_softmax import ProjectLogSoftmax, ProjectNLL, ReusedBuffers

    torch.manual_seed(0)
    bufs, pad = ReusedBuffers(), 1
    w = (torch.randn(300, 16) * 0.1).requires_grad_()
    b = (torch.randn(300) * 0.1).requires_grad_()
    for n, scale in ((37, 1.0), (80, 0.25), (12, 3.0)):
        x = torch.randn(n, 16).to(dtype).requires_grad_()
        tgt = torch.randint(0, 300, (n,))
        tgt[::5] = pad  # padding positions: no loss, no gradient
        got = {}
        for name in ("stock", "fused"):
            for p in (x, w, b):
                p.grad = None
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == torch.bfloat16):
                if name == "stock":
                    lp = ProjectLogSoftmax.apply(x, w, b, bufs, dtype)
                    if epsilon:
                        loss, nll = label_smoothed_nll_loss(lp, tgt, epsilon, ignore_index=pad)
                    else:
                        loss = torch.nn.functional.nll_loss(lp, tgt, ignore_index=pad,
                                                            reduction="sum")
                        nll = loss
                else:  # the decoder leaves padding out before calling it
                    real = tgt.ne(pad).nonzero().squeeze(1)
                    loss, nll = ProjectNLL.apply(x.index_select(0, real), w, b, tgt[real],
                                                 bufs, dtype, epsilon)
            (loss * scale).backward()
            got[name] = [loss.detach().clone(), nll.detach().clone(), x.grad, w.grad, b.grad]
        assert got["fused"][0].dtype == torch.float32 and got["fused"][2].dtype == dtype
        assert not nll.requires_grad  # the NLL is for the log only
        tol = 1e-6 if dtype == torch.float32 else 1e-2  # bf16 gradient matmuls: rounding
        for a, c in zip(got["stock"], got["fused"]):
            torch.testing.assert_close(c, a, atol=tol, rtol=1e-5)
        assert got["stock"][3].abs().max() > 0.01  # the comparison is not of zeros
        # label smoothing changes the loss and the gradient, not the NLL
        assert torch.equal(got["fused"][0], got["fused"][1]) == (not epsilon)


@pytest.mark.parametrize("smoothed", [False, True])
def test_decoder_returns_the_summed_loss_only_when_told_the_targets_in_training(smoothed):
    from fairseq.criterions.cross_entropy import CrossEntropyCriterion
    from fairseq.criterions.label_smoothed_cross_entropy import LabelSmoothedCrossEntropyCriterion

    from sutskever_plugin.criterions.sutskever_cross_entropy import (
        LOSS_SUMMED, SutskeverCrossEntropyCriterion)
    from sutskever_plugin.criterions.sutskever_label_smoothed_cross_entropy import (
        SutskeverLabelSmoothedCrossEntropyCriterion)

    torch.manual_seed(0)
    model = build("sutskever_lstm_tiny", 30, 25, dropout=0.0)
    # a criterion needs only the target dictionary (its padding index) from the task
    task = argparse.Namespace(target_dictionary=model.decoder.dictionary)
    src, lengths = torch.randint(4, 30, (3, 6)), torch.full((3,), 6)
    prev, tgt = torch.randint(4, 25, (3, 5)), torch.randint(4, 25, (3, 5))
    tgt[0, 3:] = model.decoder.dictionary.pad()
    sample = {"net_input": {"src_tokens": src, "src_lengths": lengths, "prev_output_tokens": prev},
              "target": tgt, "ntokens": int(tgt.ne(1).sum())}
    out = model(src, lengths, prev, loss_target=tgt)
    assert LOSS_SUMMED in out[1] and out[0].dim() == 0
    if smoothed:
        pair = (LabelSmoothedCrossEntropyCriterion(task, False, 0.1),
                SutskeverLabelSmoothedCrossEntropyCriterion(task, False, 0.1))
    else:
        pair = (CrossEntropyCriterion(task, False), SutskeverCrossEntropyCriterion(task, False))
    results = {}
    for crit in pair:
        model.zero_grad()
        loss, sample_size, log = crit(model, sample)
        loss.backward()
        results[type(crit).__name__] = (loss.item(), float(log.get("nll_loss", log["loss"])),
                                        {n: p.grad.clone() for n, p in model.named_parameters()})
        assert sample_size == log["sample_size"] == sample["ntokens"]
    (l1, n1, g1), (l2, n2, g2) = results.values()
    assert l1 == pytest.approx(l2, rel=1e-6) and n1 == pytest.approx(n2, rel=1e-6)
    assert (abs(l1 - n1) > 1e-3 * n1) == smoothed  # the smoothed loss is not the NLL
    for name, g in g1.items():
        torch.testing.assert_close(g2[name], g, atol=1e-6, rtol=1e-5)
    model.eval()  # validation and beam search: the ordinary logits
    out = model(src, lengths, prev, loss_target=tgt)
    assert out[1] is None and out[0].shape == (3, 5, 25)


def test_autocast_bf16_trains_in_bfloat16_and_decodes_in_fp32(monkeypatch):
    import copy

    from sutskever_plugin.models import sutskever_lstm

    torch.manual_seed(0)
    ref = build("sutskever_lstm_tiny", 30, 25, dropout=0.0)
    bf16 = copy.deepcopy(ref)
    bf16.autocast_bf16 = True
    src, lengths = torch.randint(4, 30, (4, 7)), torch.full((4,), 7)
    prev, tgt = torch.randint(4, 25, (4, 6)), torch.randint(4, 25, (4, 6))

    def loss_and_grads(m):
        m = copy.deepcopy(m)
        m.train()
        out = m(src, lengths, prev)
        lprobs = m.get_normalized_probs(out, log_probs=True)
        loss = torch.nn.functional.nll_loss(lprobs.view(-1, lprobs.size(-1)), tgt.view(-1), reduction="sum")
        loss.backward()
        return out, loss, {n: p.grad for n, p in m.named_parameters()}

    _, loss32, grads32 = loss_and_grads(ref)
    out16, loss16, grads16 = loss_and_grads(bf16)
    assert "log_probs_normalized" in out16[1]  # the fused softmax, in its bf16 form
    assert loss16.dtype == torch.float32 and loss16.item() != loss32.item()  # bf16 matmuls
    assert loss16.item() == pytest.approx(loss32.item(), rel=1e-2)
    for name, g in grads16.items():  # gradients reach the fp32 parameters, close to fp32's
        assert g.dtype == torch.float32, name
        err = (g - grads32[name]).norm() / grads32[name].norm().clamp(min=1e-12)
        assert err < 0.05, (name, err.item())
    # the stock autocast path (plain bf16 logits, fairseq's float log_softmax): bit for bit
    monkeypatch.setattr(sutskever_lstm, "fused_dtype", lambda x, training: None)
    out_stock, loss_stock, grads_stock = loss_and_grads(bf16)
    assert out_stock[0].dtype == torch.bfloat16
    assert loss_stock.item() == loss16.item()
    assert all(torch.equal(grads_stock[n], g) for n, g in grads16.items())
    # evaluation (validation, beam search) is untouched: bit-identical to the fp32 model
    ref.eval()
    bf16.eval()
    with torch.no_grad():
        assert torch.equal(ref(src, lengths, prev)[0], bf16(src, lengths, prev)[0])


def test_torch_older_than_2_4_is_refused_with_the_version_needed():
    # setup.py asks for torch >= 2.4 (the fused softmax's autocast APIs); an environment
    # that has an older one anyway gets this message, not a TypeError in the first step
    import subprocess
    import sys
    code = ("import torch; from torch.torch_version import TorchVersion; "
            "torch.__version__ = TorchVersion('2.3.1'); import sutskever_plugin")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "sutskever_plugin needs torch >= 2.4 (found 2.3.1)" in proc.stderr
