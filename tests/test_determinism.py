"""Determinism: the same command and seed give the same checkpoint, bit for bit, on CPU.

What makes CPU training reproducible here: fairseq seeds python/numpy/torch from
``--seed`` (initialisation: our uniform [-0.08, 0.08]), orders and shuffles the batches
with numpy seeded by ``seed + epoch``, and reseeds torch with ``seed + num_updates``
before every update (dropout masks); torch's CPU kernels (oneDNN LSTM, GEMM,
reductions) are deterministic for a given build, CPU and thread count.  The tests run
with OMP_NUM_THREADS=1, as the tiny and small recipes do (one thread per training).
A different thread count, CPU family or torch/oneDNN/MKL build may change the last bits
(floating-point sums in another order): reproducible, not bit-identical across machines.

On GPU (no GPU here: from the PyTorch, cuDNN and cuBLAS documentation, not measured):

* not bitwise repeatable by default.  ``nn.LSTM``'s own documentation warns of
  nondeterminism in cuDNN's RNN kernels unless ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (or
  ``:16:8``) is set; cuBLAS reductions depend on that workspace setting; cuDNN may pick
  another algorithm per run when ``torch.backends.cudnn.benchmark`` is on; and several
  CUDA backward kernels accumulate with atomic adds in no fixed order (PyTorch's
  reproducibility notes list e.g. ``index_add_``, ``scatter_add_`` and the backward of
  ``index_select``).
* fairseq sets none of the switches.  With ``torch.use_deterministic_algorithms(True)``,
  ``torch.backends.cudnn.deterministic = True``, ``torch.backends.cudnn.benchmark =
  False`` and ``CUBLAS_WORKSPACE_CONFIG=:4096:8``, runs repeat bit for bit on the same GPU
  model, driver and software stack (slower; an op without a deterministic kernel then
  raises an error instead of running).
* several GPUs add the all-reduce (NCCL), whose summation order depends on the number of
  GPUs and the algorithm: 1 GPU with batch 128 and 4 GPUs with batch 32 agree only to
  rounding (on CPU this is tested in tests/test_distributed.py).
* ``--fp16``/``--bf16`` change the numbers, and the dynamic loss scaler may skip
  different updates after an overflow.
* deterministic on GPU as on CPU, since they are computed on the CPU or seeded: the
  initialisation, the batch composition and order, the per-update dropout seed, the lr
  schedule and a resumed run's position in the data (tests/test_interruption.py).  So
  GPU runs of one command differ by floating-point rounding only, and that difference
  grows during training: compare GPU results with a tolerance, not bit for bit.
"""
import os
import subprocess

import pytest
import torch

from conftest import PLUGIN, REPO, cli

pytestmark = pytest.mark.slow  # the same training twice: the slow tier

ENV = dict(os.environ, OMP_NUM_THREADS="1")


def train(data, save, seed, log):
    return subprocess.Popen(
        [cli("fairseq-train"), str(data / "bin"), "--user-dir", str(PLUGIN), "--task", "translation_reversed",
         "--arch", "sutskever_lstm_tiny", "--dropout", "0.1", "--optimizer", "sgd", "--momentum", "0",
         "--lr", "0.7", "--lr-scheduler", "sutskever_halving", "--halve-after-epochs", "1",
         "--halve-every-epochs", "0.5", "--batch-size", "32", "--sentence-avg", "--clip-norm", "5",
         "--max-update", "30", "--seed", str(seed), "--cpu", "--no-epoch-checkpoints",
         "--save-dir", str(save), "--log-format", "simple"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, env=ENV, cwd=REPO)


def load(path):
    import sutskever_plugin  # noqa: F401
    from fairseq import checkpoint_utils
    return checkpoint_utils.load_checkpoint_to_cpu(str(path))


def test_same_seed_same_checkpoint_bit_for_bit(multi30k_bin, tmp_path):
    """30 updates (over an epoch boundary and the first lr halving), with dropout."""
    runs = {name: train(multi30k_bin, tmp_path / name, seed, tmp_path / f"{name}.log")
            for name, seed in (("a", 1), ("b", 1), ("other_seed", 2))}
    for name, proc in runs.items():
        assert proc.wait(timeout=600) == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    a, b, c = (load(tmp_path / name / "checkpoint_last.pt") for name in ("a", "b", "other_seed"))
    assert a["optimizer_history"][-1]["num_updates"] == 30
    assert a["model"].keys() == b["model"].keys()
    for k, v in a["model"].items():
        assert torch.equal(v, b["model"][k]), k
    assert a["extra_state"]["val_loss"] == b["extra_state"]["val_loss"]
    assert a["optimizer_history"] == b["optimizer_history"]  # lr schedule state included
    assert a["extra_state"]["train_iterator"] == b["extra_state"]["train_iterator"]
    # the comparison can fail: another seed gives another model
    assert not torch.equal(a["model"]["decoder.output_projection.weight"],
                           c["model"]["decoder.output_projection.weight"])
