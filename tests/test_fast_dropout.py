"""The cheaper CPU dropout (models/fast_dropout.py): its mask keeps each element with
probability 1 - p independently, keeps the expectation, and the LSTM that uses it between
layers computes what nn.LSTM computes with that mask."""
import pytest
import torch
import torch.nn as nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from sutskever_plugin.models.fast_dropout import DropoutLSTM, FastDropout, dropout, keep_mask


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
def test_mask_keeps_one_minus_p_of_every_chunk_of_a_draw(p):
    torch.manual_seed(0)
    n = 400_000
    m = keep_mask((n,), p)
    kept = m > 0
    q = round((1 - p) * 2 ** 15) / 2 ** 15
    assert m.unique().tolist() == [0.0, pytest.approx(1 / q)]
    sigma = (q * (1 - q) / (n / 4)) ** 0.5
    # each 64-bit draw feeds four elements: a chunk with a biased bit would show here
    for chunk in range(4):
        assert abs(kept[chunk::4].float().mean().item() - q) < 5 * sigma
    # neighbours are independent: P(both kept) = q^2
    both = (kept[:-1] & kept[1:]).float().mean().item()
    assert abs(both - q * q) < 5 * sigma
    assert abs(q - (1 - p)) < 2 ** -15


def test_dropout_keeps_the_expectation_and_follows_the_seed():
    x = torch.full((200, 1000), 2.0)
    torch.manual_seed(1)
    a = dropout(x, 0.3, True)
    assert abs(a.mean().item() - 2.0) < 0.02
    torch.manual_seed(1)
    assert torch.equal(dropout(x, 0.3, True), a)  # fairseq's checkpoints restore the RNG
    assert not torch.equal(dropout(x, 0.3, True), a)
    assert dropout(x, 0.3, False) is x
    assert torch.equal(dropout(x, 1.0, True), torch.zeros_like(x))
    assert dropout(x.bfloat16(), 0.3, True).dtype == torch.bfloat16


def test_dropout_module_is_fairseqs_outside_training():
    mod = FastDropout(0.3, module_name="m")
    x = torch.randn(4, 5)
    mod.eval()
    assert mod(x) is x
    mod.train()
    y = mod(x)
    assert ((y == 0) | torch.isclose(y, x / (round(0.7 * 2 ** 15) / 2 ** 15))).all()


def reference(lstm, x, state, p, seed, lengths=None):
    """nn.LSTM one layer at a time, with keep_mask between layers, drawn in order."""
    layers = []
    for layer in range(lstm.num_layers):
        one = nn.LSTM(lstm.input_size if layer == 0 else lstm.hidden_size, lstm.hidden_size)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(one, f"{name}_l0").data = getattr(lstm, f"{name}_l{layer}")
        layers.append(one)
    torch.manual_seed(seed)
    hs, cs = [], []
    inp = x if lengths is None else pack_padded_sequence(x, lengths)
    for layer, one in enumerate(layers):
        out, (h, c) = one(inp, (state[0][layer: layer + 1], state[1][layer: layer + 1]))
        hs.append(h)
        cs.append(c)
        if layer < lstm.num_layers - 1:  # the mask over what the layer output (packed: its data)
            data = out if lengths is None else out.data
            data = data * keep_mask(data.shape, p)
            out = data if lengths is None else PackedSequence(data, out.batch_sizes)
        inp = out
    if lengths is not None:
        inp = nn.utils.rnn.pad_packed_sequence(inp)[0]
    grads = lambda: {f"{name}_l{layer}": getattr(one, f"{name}_l0").grad  # noqa: E731
                     for layer, one in enumerate(layers)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    return inp, torch.cat(hs), torch.cat(cs), grads


@pytest.mark.parametrize("packed", [False, True])
def test_lstm_with_dropout_between_layers_is_nn_lstm_with_that_mask(packed):
    torch.manual_seed(0)
    lstm = DropoutLSTM(6, 8, num_layers=3, dropout=0.4)
    x = torch.randn(5, 4, 6, requires_grad=True)
    state = (torch.randn(3, 4, 8), torch.randn(3, 4, 8))
    lengths = torch.tensor([5, 4, 2, 1]) if packed else None
    torch.manual_seed(7)
    out, (h, c) = lstm(pack_padded_sequence(x, lengths) if packed else x, state)
    if packed:
        out = nn.utils.rnn.pad_packed_sequence(out)[0]
    (out.sum() + h.sum() + c.sum()).backward()
    got = {"x": x.grad.clone(), **{n: p.grad.clone() for n, p in lstm.named_parameters()}}
    x.grad = None
    ref_out, ref_h, ref_c, ref_grads = reference(lstm, x, state, 0.4, 7, lengths)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h, ref_h)
    torch.testing.assert_close(c, ref_c)
    (ref_out.sum() + ref_h.sum() + ref_c.sum()).backward()
    assert set(got) == {"x", *ref_grads()}
    for name, grad in {"x": x.grad, **ref_grads()}.items():
        torch.testing.assert_close(got[name], grad)
    assert (out == 0).sum() < out.numel() // 2  # dropout between layers, not on the output


def test_lstm_is_nn_lstm_in_evaluation_and_without_dropout():
    torch.manual_seed(0)
    ours, theirs = DropoutLSTM(6, 8, num_layers=2, dropout=0.4), nn.LSTM(6, 8, num_layers=2, dropout=0.4)
    theirs.load_state_dict(ours.state_dict())  # the same parameter names
    x = torch.randn(5, 3, 6)
    ours.eval(), theirs.eval()
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], rtol=0, atol=0)
    ours.train(), theirs.train()
    ours.dropout = theirs.dropout = 0.0
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], rtol=0, atol=0)
