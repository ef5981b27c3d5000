"""``--arch lstm_autocast``: fairseq's ``lstm`` (Table 1's attention analogue) with
sutskever_lstm's ``--autocast-bf16``: the same model, its training forward in bf16."""
import argparse

import torch

from fairseq.models import ARCH_CONFIG_REGISTRY, ARCH_MODEL_REGISTRY

import sutskever_plugin  # noqa: F401  (registers the plugin)
from test_model import FakeTask

SIZE = dict(encoder_layers=2, decoder_layers=2, encoder_hidden_size=32, decoder_hidden_size=32,
            encoder_embed_dim=16, decoder_embed_dim=16, decoder_out_embed_dim=16,
            decoder_attention="1", dropout=0.0, criterion="cross_entropy")


def build(arch, **flags):
    args = argparse.Namespace(arch=arch, **SIZE, **flags)
    ARCH_CONFIG_REGISTRY[arch](args)
    torch.manual_seed(0)
    return ARCH_MODEL_REGISTRY[arch].build_model(args, FakeTask(50, 40))


def batch():
    g = torch.Generator().manual_seed(1)
    src = torch.randint(4, 50, (3, 7), generator=g)
    prev = torch.randint(4, 40, (3, 5), generator=g)
    return src, torch.full((3,), 7), prev


def test_same_model_as_the_builtin_lstm():
    ours, builtin = build("lstm_autocast", autocast_bf16=True), build("lstm")
    assert type(ours.decoder) is type(builtin.decoder)  # fairseq's own encoder and decoder
    a, b = ours.state_dict(), builtin.state_dict()
    assert list(a) == list(b)
    assert all(torch.equal(a[k], b[k]) for k in a)
    # evaluation (validation, scoring, beam search) stays fp32: the built-in's numbers
    ours.eval(), builtin.eval()
    out, ref = ours(*batch())[0], builtin(*batch())[0]
    assert out.dtype == torch.float32 and torch.equal(out, ref)


def test_training_forward_in_bf16_only_with_the_flag():
    plain, fast, builtin = build("lstm_autocast"), build("lstm_autocast", autocast_bf16=True), build("lstm")
    for m in (plain, fast, builtin):
        m.train()
    assert torch.equal(plain(*batch())[0], builtin(*batch())[0])  # no flag: the built-in
    logits = fast(*batch())[0]
    assert logits.dtype == torch.bfloat16
    ref = builtin(*batch())[0]
    assert not torch.equal(logits.float(), ref)
    assert torch.allclose(logits.float(), ref, atol=0.02, rtol=0.05)
    # the same gradients within bf16 rounding; parameters and gradients stay fp32
    tgt = torch.randint(4, 40, (3, 5), generator=torch.Generator().manual_seed(2))
    grads = []
    for m, out in ((fast, logits), (builtin, ref)):
        loss = torch.nn.functional.cross_entropy(out.float().view(-1, out.size(-1)), tgt.view(-1))
        loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
    assert grads[0].dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(grads[0], grads[1], dim=0)
    assert cos > 0.99, cos
