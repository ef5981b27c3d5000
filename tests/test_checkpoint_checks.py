"""Direction and dictionary checks on every checkpoint a command loads (ours and
fairseq's own models), and user-facing errors as one line without a traceback."""
import shutil
import subprocess
import sys

import pytest

from conftest import PLUGIN, cli, run

# fairseq's own commands run end to end on trained models: the slow tier (scripts/test.sh --slow)
pytestmark = pytest.mark.slow

TINY_LSTM = ["--arch", "lstm", "--encoder-layers", "1", "--decoder-layers", "1",
             "--encoder-embed-dim", "16", "--decoder-embed-dim", "16", "--encoder-hidden-size", "16",
             "--decoder-hidden-size", "16", "--decoder-out-embed-dim", "16", "--decoder-attention", "1",
             "--optimizer", "sgd", "--lr", "0.5", "--batch-size", "64", "--max-update", "2",
             "--no-epoch-checkpoints", "--cpu", "--seed", "1", "--disable-validation"]


@pytest.fixture(scope="module")
def attention_ckpt(multi30k_bin, tmp_path_factory):
    """fairseq's own attention LSTM (the Table 1 analogue), trained with --task translation."""
    save = tmp_path_factory.mktemp("attention")
    run([cli("fairseq-train"), multi30k_bin / "bin", "--user-dir", PLUGIN, "--task", "translation",
         "--save-dir", save, *TINY_LSTM])
    return save / "checkpoint_last.pt"


@pytest.fixture(scope="module")
def permuted_bin(multi30k_bin, tmp_path_factory):
    """The same data directory with two source words' dictionary entries swapped: the same
    size, other contents (every id of those two words now means the other word)."""
    d = tmp_path_factory.mktemp("permuted") / "bin"
    shutil.copytree(multi30k_bin / "bin", d)
    lines = (d / "dict.en.txt").read_text().splitlines(keepends=True)
    lines[10], lines[11] = lines[11], lines[10]
    (d / "dict.en.txt").write_text("".join(lines))
    return d


def generate(bin_dir, path, task, env=None):
    return run([cli("fairseq-generate"), bin_dir, "--user-dir", PLUGIN, "--task", task,
                "--path", path, "--batch-size", "32", "--cpu", "--beam", "2"], check=False, env=env)


def one_line_error(proc, *needles):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1, proc.stderr[-3000:]
    for n in needles:
        assert n in errors[0], (n, errors[0])
    return errors[0]


def test_fairseq_checkpoint_under_the_reversed_task_is_refused(attention_ckpt, multi30k_bin):
    proc = generate(multi30k_bin / "bin", attention_ckpt, "translation_reversed")
    one_line_error(proc, str(attention_ckpt), "trained with --task translation",
                   "rerun with --task translation")
    assert "H-0" not in proc.stdout
    # and it still decodes under its own task
    ok = generate(multi30k_bin / "bin", attention_ckpt, "translation")
    assert ok.returncode == 0 and "H-0\t" in ok.stdout


def test_our_reversed_checkpoint_under_fairseqs_task_is_refused(tiny_checkpoints, multi30k_bin):
    proc = subprocess.run(
        [cli("fairseq-interactive"), str(multi30k_bin / "bin"), "--user-dir", str(PLUGIN),
         "--task", "translation", "--path", str(tiny_checkpoints["reversed"]), "--cpu"],
        input="a dog runs .\n", capture_output=True, text=True)
    one_line_error(proc, "trained with --task translation_reversed",
                   "rerun with --task translation_reversed")
    assert "H-0" not in proc.stdout


def test_an_ensemble_mixing_directions_is_refused(tiny_checkpoints, attention_ckpt, multi30k_bin):
    mixed = f"{tiny_checkpoints['reversed']}:{attention_ckpt}"
    line = one_line_error(generate(multi30k_bin / "bin", mixed, "translation_reversed"),
                          str(attention_ckpt), "same task")
    assert str(tiny_checkpoints["reversed"]) not in line  # names the member at fault
    # the rescoring's ensembles too (the task comes from the first member)
    from sutskever_plugin.checkpoint_check import CheckpointMismatchError
    from sutskever_plugin.rescoring.lstm_scorer import LstmScorer

    with pytest.raises(CheckpointMismatchError, match="trained with --task translation "):
        LstmScorer([str(tiny_checkpoints["reversed"]), str(attention_ckpt)],
                   data_bin=str(multi30k_bin / "bin"))
    with pytest.raises(CheckpointMismatchError, match="translation_reversed"):
        LstmScorer([str(tiny_checkpoints["forward"]), str(tiny_checkpoints["reversed"])],
                   data_bin=str(multi30k_bin / "bin"))


def test_same_size_dictionary_with_other_entries_is_refused(tiny_checkpoints, attention_ckpt,
                                                             permuted_bin):
    for ckpt, task in ((tiny_checkpoints["reversed"], "translation_reversed"),
                       (attention_ckpt, "translation")):
        one_line_error(generate(permuted_bin, ckpt, task), "another source dictionary",
                       "same", "dict.*.txt")
    # from_pretrained, with the checkpoint's own task
    code = ("import sys, sutskever_plugin; from fairseq.models.lstm import LSTMModel as M;"
            "M.from_pretrained(sys.argv[1], checkpoint_file=sys.argv[2], data_name_or_path=sys.argv[3])")
    proc = run([sys.executable, "-c", code, attention_ckpt.parent, attention_ckpt.name, permuted_bin],
               check=False)
    one_line_error(proc, "another source dictionary")


def test_debug_flag_shows_the_traceback(attention_ckpt, multi30k_bin):
    proc = generate(multi30k_bin / "bin", attention_ckpt, "translation_reversed",
                    env={"SUTSKEVER_DEBUG": "1"})
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    assert "CheckpointMismatchError" in proc.stderr


def test_corrupt_checkpoint_is_one_line_and_says_a_rerun_cannot_help(multi30k_bin, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"not a checkpoint at all")
    line = one_line_error(generate(multi30k_bin / "bin", bad, "translation"), "truncated or corrupt")
    assert "cannot repair" in line and "resume" not in line
