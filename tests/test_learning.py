"""A small sutskever_lstm learns to copy random sequences: only possible if the
encoder's final state carries the sentence to the decoder (there is no attention)."""
import argparse

import pytest
import torch

from fairseq.data import Dictionary
from fairseq.models import ARCH_CONFIG_REGISTRY, ARCH_MODEL_REGISTRY
from fairseq.sequence_generator import SequenceGenerator

import sutskever_plugin  # noqa: F401

pytestmark = pytest.mark.slow  # 1200 training steps: the slow tier


def test_copy_task_is_learned():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    d = Dictionary()
    symbols = [d.add_symbol(str(i)) for i in range(8)]
    task = type("T", (), {"source_dictionary": d, "target_dictionary": d, "reverses_source": False})()
    args = argparse.Namespace(arch="sutskever_lstm_tiny", encoder_hidden_size=128)
    ARCH_CONFIG_REGISTRY["sutskever_lstm_tiny"](args)
    model = ARCH_MODEL_REGISTRY["sutskever_lstm_tiny"].build_model(args, task)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    eos, length, bsz = d.eos(), 5, 64
    sym = torch.tensor(symbols)

    def batch(n):
        seq = sym[torch.randint(len(symbols), (n, length))]
        src = torch.cat([seq, torch.full((n, 1), eos)], 1)
        prev = torch.cat([torch.full((n, 1), eos), seq], 1)
        return src, prev, src  # target = copy of the source (with EOS)

    model.train()
    for step in range(1200):
        src, prev, tgt = batch(bsz)
        logits, _ = model(src, torch.full((bsz,), length + 1), prev)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    model.eval()
    gen = SequenceGenerator([model], d, beam_size=1, max_len_b=length + 2)
    src, _, tgt = batch(200)
    sample = {"net_input": {"src_tokens": src, "src_lengths": torch.full((200,), length + 1)}}
    hyps = gen.generate([model], sample)
    exact = sum(h[0]["tokens"].tolist() == t.tolist() for h, t in zip(hyps, tgt)) / 200
    assert exact >= 0.9, f"only {exact:.0%} of sequences copied exactly"
