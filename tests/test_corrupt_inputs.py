"""Corrupt and extreme inputs: a clear error naming the file (and line), or a documented,
counted skip; never a silently wrong result.

What happens, per input (each tested below):

* truncated / empty / non-checkpoint file given to fairseq-generate (or -validate,
  -interactive, the hub interface, a resumed fairseq-train): ``CorruptCheckpointError:
  checkpoint FILE is truncated or corrupt (why): re-save or re-download it``
  (``sutskever_plugin.checkpoint_check``; before it, a torch/zipfile traceback that never
  named the file).
* parallel files with different line counts, non-UTF-8 bytes (data preparation, also for
  a user's test set): ``error: FILE:LINE: not valid UTF-8 ...`` / ``error: line counts
  differ: A has N lines but B has M``, exit status 1, no traceback.
* empty lines: a training pair with an empty side is skipped and counted
  (``summary.json`` ``skipped_empty_pairs``, and the summary line); a dev/test line is
  never dropped (it must stay aligned with its reference) and is counted
  (``empty_lines_kept``, with a warning).
* a sentence longer than the limits (fairseq's ``--max-source-positions`` /
  ``--max-target-positions``, 1024 by default; our LSTM itself has none):
  in training, fairseq skips the pair and logs ``N samples have invalid sizes and will
  be skipped``; in fairseq-generate it stops with ``Size of sample #I is invalid ...``
  (I = the 0-based line in the test set) unless ``--skip-invalid-size-inputs-valid-test``
  is given, which skips and counts it, and then our scorer refuses the output because a
  sentence has no hypothesis (a BLEU on a shortened test set is never reported).
* an empty test set: data preparation refuses it (naming the file), the scorer refuses it
  (naming the file); fairseq-generate on an empty binarized split fails inside fairseq
  (``cannot mmap an empty file``), a split our preparation never writes.
"""
import gzip
import json
import logging
import shutil
import sys
from pathlib import Path

import pytest

from conftest import MULTI30K as RAW, PLUGIN, REPO, binarize_lines as _binarize, cli, run

import sutskever_plugin  # noqa: F401
from sutskever_plugin.checkpoint_check import CorruptCheckpointError, diagnose
from fairseq import checkpoint_utils


def bin_dir(multi30k_bin, out, splits):
    """A binarized data dir with the fixture's dictionaries: {split: (src lines, tgt lines)}."""
    out.mkdir(parents=True)
    for lang in ("en", "fr"):
        shutil.copy(multi30k_bin / "bin" / f"dict.{lang}.txt", out)
    for split, (src, tgt) in splits.items():
        _binarize(src, out / "dict.en.txt", out / f"{split}.en-fr.en")
        _binarize(tgt, out / "dict.fr.txt", out / f"{split}.en-fr.fr")
    return out


def generate(data, ckpt, *extra):
    return run([cli("fairseq-generate"), data, "--user-dir", PLUGIN, "--task", "translation",
                "--path", ckpt, "--batch-size", "8", "--beam", "2", "--cpu", *extra], check=False)


def last_line(text):
    return [l for l in text.splitlines() if l.strip()][-1]


# ------------------------------------------------------------------- checkpoints


def test_a_truncated_model_of_record_says_that_deleting_it_makes_it_again(tmp_path):
    """WORK/models/NAME.pt (reproduce_table1.sh's models): a rerun keeps it while its key
    matches, so the message says to delete it (issue 40); other checkpoints keep theirs."""
    from sutskever_plugin.checkpoint_check import message

    work = tmp_path / "my work"
    msg = message(str(work / "models" / "reversed3.pt"), "why")
    assert msg.startswith(f"checkpoint {work}/models/reversed3.pt is truncated or corrupt (why): "
                          f"delete it and rerun bash scripts/reproduce_table1.sh with the options "
                          f"that made it (--work '{work}'): it makes reversed3.pt again from that "
                          f"training's checkpoints in {work}/checkpoints/reversed3")
    assert "delete it" not in message(str(tmp_path / "model.pt"), "why")


def test_truncated_checkpoint_in_fairseq_generate(tiny_checkpoints, multi30k_bin, tmp_path):
    good = Path(tiny_checkpoints["forward"])
    bad = tmp_path / "model.pt"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    proc = generate(multi30k_bin / "bin", bad)
    assert proc.returncode != 0
    assert last_line(proc.stderr) == (
        f"error: checkpoint {bad} is "
        f"truncated or corrupt ({bad.stat().st_size} bytes of a zip archive, torch's format, "
        "without its end-of-archive record: its writing was cut short): re-save or "
        "re-download it (rerunning the same command cannot repair it) "
        "(set SUTSKEVER_DEBUG=1 for the traceback)")
    assert "Traceback" not in proc.stderr


def _flip_in_member(data: bytes, member: str, at: int = 0) -> bytes:
    """Flip the byte at offset ``at`` of a zip member's data (torch stores them uncompressed).
    (A flip that still unpickles, e.g. inside a tensor, loads silently: torch does not
    check CRCs when loading, and we only examine a file whose loading failed.)"""
    import io
    import struct
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = next(i for i in z.infolist() if i.filename.endswith(member))
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    pos = info.header_offset + 30 + name_len + extra_len + at
    return data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]


@pytest.mark.parametrize("damage, reason", [
    (lambda b: b"", "(the file is empty)"),
    (lambda b: b[:100], "(100 bytes of a zip archive, torch's format, without its end-of-archive record"),
    (lambda b: b[:-10], "without its end-of-archive record: its writing was cut short)"),
    (lambda b: b"<html>404 Not Found</html>\n", "(not a PyTorch file: it starts with the bytes b'<htm')"),
    (lambda b: _flip_in_member(b, "data.pkl"), "data.pkl fails its CRC check: damaged bytes)"),
    (lambda b: b"\x80\x02" + b[2:50], "50 bytes of torch's legacy format that end early or are damaged"),
])
def test_damaged_checkpoints_are_named(tiny_checkpoints, tmp_path, damage, reason):
    good = Path(tiny_checkpoints["forward"]).read_bytes()
    bad = tmp_path / "checkpoint_last.pt"
    bad.write_bytes(damage(good))
    with pytest.raises(CorruptCheckpointError) as err:
        checkpoint_utils.load_checkpoint_to_cpu(str(bad))
    msg = str(err.value)
    assert msg.startswith(f"checkpoint {bad} is truncated or corrupt (") and reason in msg, msg
    # checkpoint_last.pt is the file a resumed training reads: say how to resume
    assert "replace it with the newest intact checkpoint" in msg


def test_intact_checkpoints_load_and_other_errors_pass_through(tiny_checkpoints, tmp_path):
    import fractions
    import pickle
    import torch
    assert diagnose(str(tiny_checkpoints["forward"])) is None
    assert "model" in checkpoint_utils.load_checkpoint_to_cpu(str(tiny_checkpoints["forward"]))
    # an intact file that fails for another reason keeps torch's own error
    odd = tmp_path / "odd.pt"
    torch.save({"x": fractions.Fraction(1, 3)}, odd)
    with pytest.raises(pickle.UnpicklingError, match="Fraction"):
        checkpoint_utils.load_checkpoint_to_cpu(str(odd))


def test_resumed_training_names_a_truncated_checkpoint_last(tiny_checkpoints, multi30k_bin, tmp_path):
    """fairseq-train's resume path (Trainer.load_checkpoint) gets the same error."""
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from fairseq.trainer import Trainer

    save = tmp_path / "save"
    save.mkdir()
    last = save / "checkpoint_last.pt"
    good = Path(tiny_checkpoints["reversed"]).read_bytes()
    last.write_bytes(good[: len(good) - 4096])
    args = options.parse_args_and_arch(options.get_training_parser(), [
        str(multi30k_bin / "bin"), "--user-dir", str(PLUGIN), "--task", "translation_reversed",
        "--arch", "sutskever_lstm_tiny", "--optimizer", "sgd", "--lr", "0.7", "--batch-size", "16",
        "--cpu", "--save-dir", str(save)])
    cfg = convert_namespace_to_omegaconf(args)
    task = tasks.setup_task(cfg.task)
    model = task.build_model(cfg.model)
    trainer = Trainer(cfg, task, model, task.build_criterion(cfg.criterion))
    with pytest.raises(CorruptCheckpointError, match=rf"checkpoint {last} is truncated .* replace it"):
        checkpoint_utils.load_checkpoint(cfg.checkpoint, trainer)


# ------------------------------------------------------------------- data preparation


def fake_raw(tmp, n=20, edit=None):
    """A Multi30k-like raw dir: the first n lines of each real file, ``edit(name, lines)``
    may damage one (lines are bytes)."""
    tmp.mkdir(parents=True, exist_ok=True)
    for stem in ("train", "val", "test_2016_flickr"):
        for lang in ("en", "fr"):
            name = f"{stem}.{lang}.gz"
            with gzip.open(RAW / name, "rb") as f:
                data = [next(f) for _ in range(n)]
            with gzip.open(tmp / name, "wb") as f:
                f.writelines(edit(name, data) if edit else data)
    return tmp


def prepare_cli(*argv):
    """``python -m sutskever_plugin.data.prepare`` in a subprocess."""
    return run([sys.executable, "-m", "sutskever_plugin.data.prepare", *argv], cwd=REPO, check=False)


def prepare_main(*argv):
    """The same command line in this process (its ``main``): (status, stdout, stderr)."""
    import contextlib
    import io
    from sutskever_plugin.data import prepare
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = prepare.main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def _drop_last_line(name, data):
    return data[:-1] if name == "val.fr.gz" else data


def _latin1(name, data):
    if name == "train.fr.gz":
        data[6] = b"Un homme \xe9crit.\n"
    return data


def test_non_utf8_corpus_is_a_cli_error_naming_file_and_line(tmp_path):
    raw = fake_raw(tmp_path / "raw", edit=_latin1)
    proc = prepare_cli("--dataset", "multi30k", "--scale", "tiny", "--raw-dir", raw, "--out", tmp_path / "out")
    assert proc.returncode == 1
    assert f"error: {raw}/train.fr.gz:7: not valid UTF-8 (byte 0xe9" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "summary.json").exists()


def test_line_count_mismatch_names_both_files(tmp_path):
    raw = fake_raw(tmp_path / "raw", edit=_drop_last_line)
    status, _, err = prepare_main("--dataset", "multi30k", "--scale", "tiny", "--raw-dir", raw,
                                  "--out", tmp_path / "out")
    assert status == 1
    assert f"error: line counts differ: {raw}/val.en.gz has 20 lines but {raw}/val.fr.gz has 19" in err
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A tiny corpus with an empty target line in train (line 4) and an empty source line
    in test (line 3), prepared through the command line."""
    tmp = tmp_path_factory.mktemp("prep")

    def empty_lines(name, data):
        if name == "train.fr.gz":
            data[3] = b"   \t\n"
        if name == "test_2016_flickr.en.gz":
            data[2] = b"\n"
        return data

    raw = fake_raw(tmp / "raw", edit=empty_lines)
    status, out, err = prepare_main("--dataset", "multi30k", "--scale", "tiny", "--raw-dir", raw,
                                    "--out", tmp / "data", "--quiet")
    assert status == 0, err[-3000:]
    return tmp / "data", out + err


def test_empty_lines_are_counted_skips_in_train_and_kept_in_test(prepared):
    data, output = prepared
    splits = json.loads((data / "summary.json").read_text())["splits"]
    assert splits["train"] == {"lines_read": 20, "lines": 19, "skipped_empty_pairs": 1, "empty_lines_kept": 0}
    assert splits["test"] == {"lines_read": 20, "lines": 20, "skipped_empty_pairs": 0, "empty_lines_kept": 1}
    assert "train 19 pairs (1 skipped: empty side)" in output
    assert "test: 1 line(s) with an empty side kept" in output
    assert (data / "tok" / "test.en").read_text(encoding="utf-8").split("\n")[2] == ""


def test_user_test_set_errors_name_the_file(prepared, tmp_path):
    data, _ = prepared
    empty_src, empty_ref = tmp_path / "empty.en", tmp_path / "empty.fr"
    empty_src.write_text("")
    empty_ref.write_text("")
    status, _, err = prepare_main("--dataset", "eval", "--data-dir", data, "--src", empty_src,
                                  "--ref", empty_ref, "--out", tmp_path / "ev")
    assert status == 1
    assert f"error: split 'test' is empty after reading ['{empty_src}']" in err
    src, ref = tmp_path / "my.en", tmp_path / "my.fr"
    src.write_bytes(b"A man .\nA \xff dog .\n")
    ref.write_text("Un homme .\nUn chien .\n", encoding="utf-8")
    status, _, err = prepare_main("--dataset", "eval", "--data-dir", data, "--src", src, "--ref", ref,
                                  "--out", tmp_path / "ev2")
    assert status == 1 and f"error: {src}:2: not valid UTF-8" in err
    ref.write_text("Un homme .\n", encoding="utf-8")
    src.write_text("A man .\nA dog .\n", encoding="utf-8")
    status, _, err = prepare_main("--dataset", "eval", "--data-dir", data, "--src", src, "--ref", ref,
                                  "--out", tmp_path / "ev3")
    assert status == 1 and f"{src} has 2 lines but {ref} has 1" in err


# ------------------------------------------------------------------- empty test set


def test_empty_test_set_is_refused(tiny_checkpoints, multi30k_bin, tmp_path, capsys):
    from sutskever_plugin.scoring import score
    from sutskever_plugin.scoring.bleu import tokenized_bleu

    data = tmp_path / "data"
    for sub in ("tok", "raw"):
        (data / sub).mkdir(parents=True)
        (data / sub / "test.fr").write_text("")
    (data / "summary.json").write_text(json.dumps({"src": "en", "tgt": "fr", "bpe": None}))
    gen = tmp_path / "empty.gen"
    gen.write_text("")
    assert score.main(["--generate-output", str(gen), "--data-dir", str(data),
                       "--out", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert f"error: {data / 'tok' / 'test.fr'}: the test set is empty (0 sentences)" in err
    assert not (tmp_path / "x.json").exists()
    with pytest.raises(ValueError, match="empty test set"):
        tokenized_bleu([], [])
    # fairseq-generate itself on an empty binarized split fails (inside fairseq)
    empty = bin_dir(multi30k_bin, tmp_path / "bin", {"test": ([], [])})
    proc = generate(empty, tiny_checkpoints["forward"])
    assert proc.returncode != 0 and "cannot mmap an empty file" in proc.stderr


# ------------------------------------------------------------------- too long


LONG = " ".join(["a"] * 1100)  # 1101 tokens with </s>: over fairseq's default 1024


def test_too_long_sentence_in_generate_is_an_error_or_a_counted_skip(tiny_checkpoints, multi30k_bin, tmp_path):
    from sutskever_plugin.scoring.fairseq_output import FairseqOutputError, read_hypotheses

    src = (multi30k_bin / "test.en").read_text(encoding="utf-8").splitlines()[:6]
    tgt = (multi30k_bin / "test.fr").read_text(encoding="utf-8").splitlines()[:6]
    src[3] = LONG
    data = bin_dir(multi30k_bin, tmp_path / "bin", {"test": (src, tgt)})
    proc = generate(data, tiny_checkpoints["forward"])
    assert proc.returncode != 0
    assert last_line(proc.stderr).startswith("Exception: Size of sample #3 is invalid")
    assert "since max_positions=(1024, 1024), skip this example with --skip-invalid-size-inputs-valid-test" in proc.stderr

    proc = generate(data, tiny_checkpoints["forward"], "--skip-invalid-size-inputs-valid-test")
    assert proc.returncode == 0
    assert "1 samples have invalid sizes and will be skipped" in proc.stdout + proc.stderr
    gen = tmp_path / "out.gen"
    gen.write_text(proc.stdout)
    with pytest.raises(FairseqOutputError, match=rf"{gen}: no hypothesis for 1 of 6 sentences \(first ids: \[3\]\)"):
        read_hypotheses(str(gen), 6)


def test_too_long_training_pair_is_a_counted_skip(multi30k_bin, tmp_path, caplog):
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from fairseq.trainer import Trainer

    src = (multi30k_bin / "train.en").read_text(encoding="utf-8").splitlines()[:40]
    tgt = (multi30k_bin / "train.fr").read_text(encoding="utf-8").splitlines()[:40]
    src[5], tgt[17] = LONG, LONG
    data = bin_dir(multi30k_bin, tmp_path / "bin", {"train": (src, tgt)})
    args = options.parse_args_and_arch(options.get_training_parser(), [
        str(data), "--user-dir", str(PLUGIN), "--task", "translation_reversed",
        "--arch", "sutskever_lstm_tiny", "--optimizer", "sgd", "--lr", "0.7", "--batch-size", "8",
        "--cpu"])
    cfg = convert_namespace_to_omegaconf(args)
    task = tasks.setup_task(cfg.task)
    task.load_dataset("train")
    model = task.build_model(cfg.model)
    trainer = Trainer(cfg, task, model, task.build_criterion(cfg.criterion))
    with caplog.at_level(logging.WARNING):
        itr = trainer.get_train_iterator(epoch=1)  # what fairseq-train uses
    kept = sorted(i for b in itr.frozen_batches for i in b)
    assert kept == [i for i in range(40) if i not in (5, 17)]
    assert "2 samples have invalid sizes and will be skipped" in caplog.text
