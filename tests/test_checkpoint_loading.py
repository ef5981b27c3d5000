"""torch >= 2.6 loads with weights_only=True; the plugin allow-lists what fairseq needs.
A checkpoint's sizes come from its own args, not from its --arch name's defaults."""
import subprocess
import sys

import torch

from conftest import REPO

LOAD = "import torch, sys; s = torch.load(sys.argv[1]); print(sorted(s))"


def load_in_subprocess(ckpt, prelude=""):
    # from the repo root, ``python -c`` imports this tree's sutskever_plugin
    return subprocess.run([sys.executable, "-c", prelude + LOAD, str(ckpt)],
                          cwd=REPO, capture_output=True, text=True)


def test_stock_torch_load_refuses_and_plugin_allows(tiny_checkpoints):
    assert tuple(int(x) for x in torch.__version__.split(".")[:2]) >= (2, 6)
    ckpt = tiny_checkpoints["reversed"]
    stock = load_in_subprocess(ckpt)
    assert stock.returncode != 0 and "argparse.Namespace" in stock.stderr
    ours = load_in_subprocess(ckpt, "import sutskever_plugin; ")
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert "model" in ours.stdout and "cfg" in ours.stdout


def test_only_exact_types_are_allowed():
    from sutskever_plugin.fairseq_patches.checkpoint_load import FAIRSEQ_CHECKPOINT_GLOBALS
    allowed = set(torch.serialization.get_safe_globals())
    assert set(FAIRSEQ_CHECKPOINT_GLOBALS) <= allowed
    # the check stays on for everything else
    import fractions, io, pickle
    buf = io.BytesIO()
    torch.save({"x": fractions.Fraction(1, 3)}, buf)
    buf.seek(0)
    try:
        torch.load(buf)
    except pickle.UnpicklingError as err:
        assert "Fraction" in str(err)
    else:
        raise AssertionError("a non-allow-listed global was loaded")


def test_a_checkpoint_keeps_its_sizes_whatever_its_arch_defaults_now(tiny_checkpoints, tmp_path):
    """sutskever_lstm_small was 4 x 128 before it became the small scale's 2 x 512: a
    checkpoint stores every size in its args, so an old one loads as what it was."""
    import sutskever_plugin  # noqa: F401
    from fairseq import checkpoint_utils, tasks

    state = torch.load(tiny_checkpoints["forward"], weights_only=False)
    args = state["cfg"]["model"]  # an argparse.Namespace (add_args model)
    args.arch = args._name = "sutskever_lstm_small"
    for side in ("encoder", "decoder"):
        for name, value in (("layers", 4), ("hidden_size", 128), ("embed_dim", 128)):
            setattr(args, f"{side}_{name}", value)
    task = tasks.setup_task(checkpoint_utils.load_checkpoint_to_cpu(
        str(tiny_checkpoints["forward"]))["cfg"].task)
    state["model"] = task.build_model(args).state_dict()  # weights of an old 4 x 128 model
    old = tmp_path / "old_small.pt"
    torch.save(state, old)
    [model], _, _ = checkpoint_utils.load_model_ensemble_and_task([str(old)])
    assert model.encoder.lstm.num_layers == model.decoder.lstm.num_layers == 4
    assert model.encoder.lstm.hidden_size == 128 and model.encoder.embed_tokens.embedding_dim == 128
