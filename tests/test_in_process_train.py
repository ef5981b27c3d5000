"""sutskever_plugin/benchmark/in_process_train.py: fairseq-train in this process with hooks
around the Trainer's steps (tune_small.py's CPU log uses it). The hooks
see every step with the original beside them, and everything they replace comes back,
also when the training stops with an error."""
import sys

import pytest

from conftest import PLUGIN
from sutskever_plugin.benchmark.in_process_train import run_fairseq_train


def tiny_args(bin_dir, *extra):
    return [str(bin_dir), "--user-dir", str(PLUGIN), "--task", "translation_reversed",
            "--arch", "sutskever_lstm_tiny", "--optimizer", "sgd", "--lr", "0.7",
            "--batch-size", "32", "--sentence-avg", "--clip-norm", "5", "--cpu", "--seed", "1",
            "--max-update", "3", "--save-dir", "/nonexistent/never/written", *extra]


def test_hooks_wrap_the_steps_and_are_undone_after_an_error(multi30k_bin, tmp_path):
    import fairseq_cli.train as fs_train
    from fairseq.trainer import Trainer

    originals = Trainer.train_step, Trainer.begin_epoch, fs_train.validate, list(sys.argv)
    seen = []

    def train_step(original, self, samples, *a, **kw):
        assert original is originals[0]
        result = original(self, samples, *a, **kw)
        seen.append(("step", self.get_num_updates()))
        if self.get_num_updates() == 2:
            raise RuntimeError("stop here")
        return result

    def begin_epoch(original, self, epoch):
        seen.append(("epoch", epoch))
        return original(self, epoch)

    with pytest.raises(RuntimeError, match="stop here"):
        run_fairseq_train(tiny_args(multi30k_bin / "bin", "--save-dir", str(tmp_path / "ckpt")),
                          train_step=train_step, begin_epoch=begin_epoch)
    assert seen == [("epoch", 1), ("step", 1), ("step", 2)]
    assert (Trainer.train_step, Trainer.begin_epoch, fs_train.validate, sys.argv) == originals
