"""torch >= 2.6 loads with weights_only=True; the plugin allow-lists what fairseq needs."""
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
