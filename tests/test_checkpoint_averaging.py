"""fairseq's checkpoint averaging on our checkpoints: the averaged model keeps its
source-reversal flag, decodes under its task, and refuses the other one.

fairseq's ``scripts/average_checkpoints.py`` lives in fairseq's git repository and is
not in its pip packages (neither ``fairseq==0.12.2`` nor ``ve-fairseq``), so users run it
from a clone. Its averaging function is written out below as in fairseq main (MIT
licence; the argument parsing cut to the two flags used here) and run as a separate
script, as a user would, without our plugin imported. It was re-typed, not copied: no
copy of the upstream file is reachable from this workplace to diff it against.
"""
import os
import re
import sys
import textwrap

import pytest
import torch

import sutskever_plugin  # noqa: F401  (the checkpoint allow-list for torch.load)
from conftest import PLUGIN, cli, run

# trains three models and runs fairseq's averaging script: the slow tier (scripts/test.sh --slow)
pytestmark = pytest.mark.slow

FAIRSEQ_AVERAGE_CHECKPOINTS = textwrap.dedent('''
    import argparse
    import collections

    import torch
    from fairseq.file_io import PathManager


    def average_checkpoints(inputs):
        params_dict = collections.OrderedDict()
        params_keys = None
        new_state = None
        num_models = len(inputs)

        for fpath in inputs:
            with PathManager.open(fpath, "rb") as f:
                state = torch.load(
                    f,
                    map_location=(
                        lambda s, _: torch.serialization.default_restore_location(s, "cpu")
                    ),
                )
            # Copies over the settings from the first checkpoint
            if new_state is None:
                new_state = state

            model_params = state["model"]

            model_params_keys = list(model_params.keys())
            if params_keys is None:
                params_keys = model_params_keys
            elif params_keys != model_params_keys:
                raise KeyError(
                    "For checkpoint {}, expected list of params: {}, "
                    "but found: {}".format(f, params_keys, model_params_keys)
                )

            for k in params_keys:
                p = model_params[k]
                if isinstance(p, torch.HalfTensor):
                    p = p.float()
                if k not in params_dict:
                    params_dict[k] = p.clone()
                    # NOTE: clone() is needed in case of p is a shared parameter
                else:
                    params_dict[k] += p

        averaged_params = collections.OrderedDict()
        for k, v in params_dict.items():
            averaged_params[k] = v
            if averaged_params[k].is_floating_point():
                averaged_params[k].div_(num_models)
            else:
                averaged_params[k] //= num_models
        new_state["model"] = averaged_params
        return new_state


    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--inputs", required=True, nargs="+")
        parser.add_argument("--output", required=True)
        args = parser.parse_args()
        new_state = average_checkpoints(args.inputs)
        with PathManager.open(args.output, "wb") as f:
            torch.save(new_state, f)
''')

# torch >= 2.6 loads with weights_only=True and fairseq's script passes nothing; a
# fairseq checkpoint holds an argparse.Namespace, so the script needs this (docs/install.md)
ENV = {"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "PYTHONPATH": ""}


def average(tmp_path, inputs, name):
    script = tmp_path / "average_checkpoints.py"
    script.write_text(FAIRSEQ_AVERAGE_CHECKPOINTS)
    out = tmp_path / name
    run([sys.executable, script, "--inputs", *inputs, "--output", out], cwd=tmp_path, env=ENV)
    return out


def load(path):
    return torch.load(path, map_location="cpu", weights_only=False)


def perturbed(src, dst, seed):
    """Another checkpoint of the same model (as from a later update): weights moved."""
    state = load(src)
    g = torch.Generator().manual_seed(seed)
    for k, v in state["model"].items():
        if k != "source_reversed":
            state["model"][k] = v + 0.01 * torch.randn(v.shape, generator=g)
    torch.save(state, dst)
    return dst


def generate(bin_dir, path, task, check=True):
    return run([cli("fairseq-generate"), bin_dir, "--user-dir", PLUGIN, "--task", task,
                "--path", path, "--beam", "2", "--batch-size", "50", "--gen-subset", "test",
                "--cpu"], check=check)


def test_averaged_checkpoint_keeps_its_reversal_flag(tiny_checkpoints, multi30k_bin, tmp_path):
    rev = tiny_checkpoints["reversed"]
    inputs = [rev, perturbed(rev, tmp_path / "r2.pt", 2), perturbed(rev, tmp_path / "r3.pt", 3)]
    avg = average(tmp_path, inputs, "averaged.pt")
    states = [load(p)["model"] for p in inputs]
    got = load(avg)["model"]
    assert got["source_reversed"].item() == 1.0
    for k in ("encoder.lstm.weight_hh_l0", "decoder.output_projection.weight"):
        assert torch.allclose(got[k], sum(s[k] for s in states) / 3, atol=1e-6), k
    # the averaged model decodes under its own task, every test sentence ...
    gen = generate(multi30k_bin / "bin", avg, "translation_reversed").stdout
    assert len(re.findall(r"^H-\d+\t", gen, re.M)) == 100
    # ... and is still refused under the other one
    wrong = generate(multi30k_bin / "bin", avg, "translation", check=False)
    assert wrong.returncode != 0
    assert "was trained with --task translation_reversed" in wrong.stdout + wrong.stderr


def test_forward_checkpoints_average_to_forward(tiny_checkpoints, tmp_path):
    fwd = tiny_checkpoints["forward"]
    avg = average(tmp_path, [fwd, perturbed(fwd, tmp_path / "f2.pt", 2)], "averaged.pt")
    assert load(avg)["model"]["source_reversed"].item() == 0.0
    from fairseq import checkpoint_utils
    models, _, task = checkpoint_utils.load_model_ensemble_and_task([str(avg)])
    assert not bool(models[0].source_reversed) and not getattr(task, "reverses_source", False)


def test_average_of_reversed_and_forward_models_is_refused(tiny_checkpoints, multi30k_bin, tmp_path):
    avg = average(tmp_path, [tiny_checkpoints["reversed"], tiny_checkpoints["forward"]], "mixed.pt")
    assert load(avg)["model"]["source_reversed"].item() == 0.5
    proc = generate(multi30k_bin / "bin", avg, "translation_reversed", check=False)
    assert proc.returncode != 0
    assert "mean of checkpoints trained on reversed and on forward" in proc.stdout + proc.stderr


def test_checkpoints_with_the_earlier_bool_flag_still_load(tiny_checkpoints, multi30k_bin, tmp_path):
    state = load(tiny_checkpoints["reversed"])
    state["model"]["source_reversed"] = torch.tensor(True)  # as written before the change
    old = tmp_path / "bool_flag.pt"
    torch.save(state, old)
    gen = generate(multi30k_bin / "bin", old, "translation_reversed").stdout
    assert len(re.findall(r"^H-\d+\t", gen, re.M)) == 100
    wrong = generate(multi30k_bin / "bin", old, "translation", check=False)
    assert wrong.returncode != 0 and "was trained with --task translation_reversed" in wrong.stdout + wrong.stderr
