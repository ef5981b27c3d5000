"""fairseq's own command-line tools on a slice of the real Multi30k data."""
import re
import subprocess
import sys

import pytest

from conftest import PLUGIN, REPO, cli, run

# fairseq's own commands run end to end on trained models: the slow tier (scripts/test.sh --slow)
pytestmark = pytest.mark.slow


def generate(data, ckpt, task, *extra, check=True):
    return run([cli("fairseq-generate"), data / "bin", "--user-dir", PLUGIN, "--task", task,
                "--path", ckpt, "--batch-size", "32", "--cpu", *extra], check=check)


def test_train_logs_the_paper_schedule(tiny_checkpoints, multi30k_bin):
    # 800 pairs / 128 = 7 updates per epoch; halving starts after epoch 1 (tiny flags)
    log = (multi30k_bin / "train_log.txt")
    proc = run([cli("fairseq-train"), multi30k_bin / "bin", "--user-dir", PLUGIN,
                "--task", "translation_reversed", "--save-dir", multi30k_bin / "ckpt_log",
                "--arch", "sutskever_lstm_tiny", "--optimizer", "sgd", "--lr", "0.7",
                "--lr-scheduler", "sutskever_halving", "--halve-after-epochs", "1",
                "--halve-every-epochs", "0.5", "--batch-size", "128", "--sentence-avg",
                "--clip-norm", "5", "--max-epoch", "2", "--cpu", "--log-format", "simple",
                "--no-save", "--disable-validation"])
    log.write_text(proc.stdout + proc.stderr)
    lrs = [float(x) for x in re.findall(r"\| epoch \d+ \|.*\| lr ([0-9.e-]+)", proc.stdout + proc.stderr)]
    # fairseq logs the lr of each epoch's last update.  Epoch 1 (updates 1-7) runs at
    # 0.7 throughout; from update 8 on the lr halves every round(0.5 * 7) = 4 updates,
    # so update 14 (the 7th after the first halving) runs at 0.7 / 4.
    assert lrs[:2] == [0.7, 0.175], lrs


def test_train_with_autocast_bf16_then_generate_in_fp32(multi30k_bin, tmp_path):
    # --autocast-bf16: bf16 matmuls in training, fp32 parameters in the checkpoint,
    # and the checkpoint decodes like any other; with the rest of the plugin's CPU recipe
    # (sparse embedding gradients, the loss inside the bf16 softmax)
    save = tmp_path / "ckpt_bf16"
    proc = run([cli("fairseq-train"), multi30k_bin / "bin", "--user-dir", PLUGIN,
                "--task", "translation_reversed", "--save-dir", save, "--arch",
                "sutskever_lstm_tiny", "--autocast-bf16", "--sparse-embedding-grads",
                "--optimizer", "sutskever_sgd", "--criterion", "sutskever_cross_entropy", "--lr", "0.7",
                "--batch-size", "128", "--sentence-avg", "--clip-norm", "5", "--max-epoch", "2",
                "--cpu", "--log-format", "simple", "--no-epoch-checkpoints"])
    out = proc.stdout + proc.stderr
    valid = [float(x) for x in re.findall(r"valid on 'valid' subset \| loss ([0-9.]+)", out)]
    assert len(valid) == 2 and valid[1] < valid[0], valid  # it learns
    check = ("import sys, sutskever_plugin; from fairseq import checkpoint_utils; "
             "s = checkpoint_utils.load_checkpoint_to_cpu(sys.argv[1]); "
             "print(s['cfg']['model'].autocast_bf16, sorted({str(v.dtype) for v in s['model'].values()}))")
    got = run([sys.executable, "-c", check, save / "checkpoint_last.pt"]).stdout.strip().splitlines()[-1]
    assert got == "True ['torch.float32']", got  # the source_reversed flag too (1.0 / 0.0)
    gen = generate(multi30k_bin, save / "checkpoint_last.pt", "translation_reversed", "--beam", "2")
    assert len(re.findall(r"^H-\d+", gen.stdout, flags=re.M)) == 100


def test_label_smoothed_criterion_logs_what_fairseqs_does(multi30k_bin, tmp_path):
    # --criterion sutskever_label_smoothed_cross_entropy (the loss inside the softmax) and
    # fairseq's label_smoothed_cross_entropy: the same training, logged the same way
    logs = {}
    for crit in ("label_smoothed_cross_entropy", "sutskever_label_smoothed_cross_entropy"):
        proc = run([cli("fairseq-train"), multi30k_bin / "bin", "--user-dir", PLUGIN,
                    "--task", "translation_reversed", "--save-dir", tmp_path / crit,
                    "--arch", "sutskever_lstm_tiny", "--dropout", "0", "--optimizer", "adam",
                    "--lr", "0.003", "--criterion", crit, "--label-smoothing", "0.1",
                    "--batch-size", "64", "--sentence-avg", "--max-update", "12", "--seed", "3",
                    "--cpu", "--log-format", "simple", "--log-interval", "4", "--no-save"])
        logs[crit] = re.findall(r"train_inner \| epoch \d+: +\d+ / \d+ loss=([0-9.]+), "
                                r"nll_loss=([0-9.]+), ppl=([0-9.]+)", proc.stdout + proc.stderr)
    stock, ours = logs.values()
    assert len(stock) == 3 and ours == stock, logs
    assert all(float(loss) != float(nll) for loss, nll, _ in ours)  # smoothed: loss is not the NLL


def test_incompatible_flags_stop_fairseq_train_with_one_line(multi30k_bin, tmp_path):
    # a flag error is the user's to fix: one line naming the flags, no traceback
    # (SUTSKEVER_DEBUG=1 brings it back)
    cmd = [cli("fairseq-train"), multi30k_bin / "bin", "--user-dir", PLUGIN,
           "--task", "translation_reversed", "--save-dir", tmp_path / "ckpt",
           "--arch", "sutskever_lstm_tiny", "--sparse-embedding-grads", "--optimizer", "adam",
           "--lr", "0.001", "--batch-size", "32", "--max-update", "1", "--cpu"]
    proc = run(cmd, check=False)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --sparse-embedding-grads needs --optimizer sutskever_sgd"), proc.stderr
    assert "Traceback" not in proc.stderr
    debug = run(cmd, check=False, env={"SUTSKEVER_DEBUG": "1"})
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "ConfigError" in debug.stderr


def test_generate_beam_12_and_ensemble(tiny_checkpoints, multi30k_bin):
    out = generate(multi30k_bin, tiny_checkpoints["reversed"], "translation_reversed",
                   "--beam", "12", "--nbest", "2").stdout
    assert len(re.findall(r"^H-\d+\t", out, re.M)) == 200  # 100 sentences x nbest 2
    assert "Generate test with beam=12: BLEU4" in out
    ens = f"{tiny_checkpoints['reversed']}:{tiny_checkpoints['reversed']}"
    out2 = generate(multi30k_bin, ens, "translation_reversed", "--beam", "12").stdout
    # an ensemble of a model with itself is that model
    first = lambda o: sorted(re.findall(r"^H-(\d+)\t\S+\t(.*)$", o, re.M))
    assert first(out2) == first(generate(multi30k_bin, tiny_checkpoints["reversed"],
                                         "translation_reversed", "--beam", "12").stdout)


def test_score_reference(tiny_checkpoints, multi30k_bin):
    out = generate(multi30k_bin, tiny_checkpoints["forward"], "translation",
                   "--score-reference").stdout
    scores = [float(s) for s in re.findall(r"^H-\d+\t(\S+)\t", out, re.M)]
    assert len(scores) == 100 and all(s < 0 for s in scores)


def test_wrong_task_fails_with_the_fix(tiny_checkpoints, multi30k_bin):
    proc = generate(multi30k_bin, tiny_checkpoints["reversed"], "translation", check=False)
    assert proc.returncode != 0
    assert "rerun with --task translation_reversed" in proc.stderr
    proc = generate(multi30k_bin, tiny_checkpoints["forward"], "translation_reversed", check=False)
    assert proc.returncode != 0 and "rerun with --task translation" in proc.stderr


def test_dictionary_mismatch_is_explained(tiny_checkpoints, multi30k_bin, tmp_path):
    d = multi30k_bin
    run([cli("fairseq-preprocess"), "--source-lang", "en", "--target-lang", "fr",
         "--trainpref", d / "train", "--testpref", d / "test", "--destdir", tmp_path / "bin",
         "--nwordssrc", "500", "--nwordstgt", "800", "--workers", "1"])
    proc = generate(tmp_path.parent / tmp_path.name, tiny_checkpoints["forward"],
                    "translation", check=False)
    assert proc.returncode != 0
    assert "source vocabulary has" in proc.stderr and "dictionary" in proc.stderr


def test_interactive_validate_and_hub(tiny_checkpoints, multi30k_bin):
    src = "a man in a blue shirt is standing on a ladder .\na dog runs .\n"
    proc = subprocess.run(
        [cli("fairseq-interactive"), str(multi30k_bin / "bin"), "--user-dir", str(PLUGIN),
         "--task", "translation_reversed", "--path", str(tiny_checkpoints["reversed"]),
         "--beam", "5", "--cpu"], input=src, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the model reads the source reversed
    assert re.search(r"^S-1\t\. runs dog a$", proc.stdout, re.M), proc.stdout
    assert len(re.findall(r"^H-\d+\t", proc.stdout, re.M)) == 2

    proc = run([cli("fairseq-validate"), multi30k_bin / "bin", "--user-dir", PLUGIN,
                "--task", "translation_reversed", "--path", tiny_checkpoints["reversed"],
                "--valid-subset", "test", "--batch-size", "32", "--cpu"])
    assert re.search(r"valid on 'test' subset \| loss [0-9.]+ \| nll_loss [0-9.]+ \| ppl",
                     proc.stdout + proc.stderr)

    # the hub interface, as a user calls it from the repo root (where ``python -c``
    # imports this tree's sutskever_plugin)
    code = (
        "import sys;"
        "from sutskever_plugin.models.sutskever_lstm import SutskeverLSTMModel as M;"
        "m = M.from_pretrained(sys.argv[1], checkpoint_file='checkpoint_last.pt', data_name_or_path=sys.argv[2]);"
        "print(type(m.task).__name__); print(m.translate('a dog runs .', beam=4))"
    )
    ckpt = tiny_checkpoints["reversed"]
    proc = run([sys.executable, "-c", code, ckpt.parent, multi30k_bin / "bin"], cwd=REPO)
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == "TranslationReversedTask" and lines[-1].strip()


def test_no_sentence_is_dropped_from_batches(tiny_checkpoints, multi30k_bin):
    # 100 test sentences in batches of 32: upstream fairseq main drops the last 4
    for bs in ("32", "7"):
        out = generate(multi30k_bin, tiny_checkpoints["forward"], "translation",
                       "--beam", "2", "--batch-size", bs)
        ids = sorted(int(i) for i in re.findall(r"^H-(\d+)\t", out.stdout, re.M))
        assert ids == list(range(100)), bs


def test_batch_by_size_keeps_the_remainder():
    import numpy as np
    from fairseq.data import data_utils
    import sutskever_plugin  # noqa: F401
    idx = np.arange(100, dtype=np.int64)
    batches = data_utils.batch_by_size(idx, lambda i: 5, max_sentences=32,
                                       required_batch_size_multiple=8)
    assert np.concatenate(batches).tolist() == idx.tolist()
    assert [len(b) for b in batches] == [32, 32, 32, 4]
