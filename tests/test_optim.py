"""--optimizer fused_adam: fairseq's adam (its flags, AdamW's weight decay) stepped by
torch's fused kernel; its updates must follow fairseq's own adam."""
import argparse

import pytest
import torch

from fairseq import options
from fairseq.optim import OPTIMIZER_REGISTRY
from fairseq.optim.adam import FairseqAdam, FairseqAdamConfig

import sutskever_plugin  # noqa: F401  (registers fused_adam)
from sutskever_plugin.optim.fused_adam import FusedAdam


def params_and_grads(seed):
    g = torch.Generator().manual_seed(seed)
    shapes = [(64, 32), (32,), (100, 16)]
    params = [torch.nn.Parameter(torch.rand(s, generator=g) - 0.5) for s in shapes]
    grads = [[torch.randn(s, generator=g) for s in shapes] for _ in range(6)]
    return params, grads


def cfg(**kw):
    kw.setdefault("adam_betas", "(0.9, 0.999)")  # as the command line gives it
    return FairseqAdamConfig(lr=[kw.pop("lr", 3e-3)], tpu=False, **kw)


OPTIMIZERS = {"adam": FairseqAdam, "fused_adam": FusedAdam}


def test_fused_adam_is_registered_with_fairseqs_adam_flags():
    assert OPTIMIZER_REGISTRY["fused_adam"] is FusedAdam
    args = options.parse_args_and_arch(options.get_training_parser(), [
        "data", "--arch", "sutskever_lstm_tiny", "--optimizer", "fused_adam", "--lr", "0.003",
        "--adam-betas", "(0.9, 0.98)", "--weight-decay", "0.01", "--task", "translation"])
    assert (args.optimizer, args.adam_betas, args.weight_decay) == ("fused_adam", "(0.9, 0.98)", 0.01)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_fused_adam_follows_fairseqs_adam(weight_decay):
    # six updates with the same gradients, from the same start
    runs = {}
    for name in ("adam", "fused_adam"):
        params, grads = params_and_grads(0)
        opt = OPTIMIZERS[name](cfg(weight_decay=weight_decay), params)
        assert isinstance(opt, FusedAdam) == (name == "fused_adam")
        for step in grads:
            for p, g in zip(params, step):
                p.grad = g.clone()
            opt.step()
        runs[name] = [p.detach().clone() for p in params]
    start, _ = params_and_grads(0)
    for a, b, p0 in zip(runs["adam"], runs["fused_adam"], start):
        moved = (a - p0).abs().max()
        assert moved > 1e-2  # the updates did something
        # eps placement (module docstring) is the only difference: it changes the
        # updates of the smallest gradients by up to a few percent in the first steps,
        # a thousandth of how far the parameters moved
        torch.testing.assert_close(b, a, rtol=0, atol=1e-3 * float(moved))


def test_fused_adam_takes_fairseqs_flags_and_lr_changes():
    params, grads = params_and_grads(1)
    opt = FusedAdam(cfg(lr=0.01, adam_betas="(0.8, 0.99)", adam_eps=1e-6), params)
    group = opt.optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == \
        (0.01, (0.8, 0.99), 1e-6, 0.0)
    assert group["fused"] is True
    opt.set_lr(0.005)  # what fairseq's lr schedulers call
    assert opt.get_lr() == 0.005


def test_fused_adam_refuses_fp16_adam_stats():
    with pytest.raises(ValueError, match="--fp16-adam-stats"):
        FusedAdam(cfg(fp16_adam_stats=True), params_and_grads(0)[0])
