"""Multi30k preparation end to end (tiny scale, real fairseq-preprocess), bad input,
SentencePiece variant, and user test sets prepared with a data dir's preprocessing."""
import gzip
import os
from collections import Counter

import pytest

from conftest import MULTI30K as RAW

from sutskever_plugin.data import multi30k, prepare, spm
from sutskever_plugin.data.evalset import postprocess_hypotheses, prepare_eval_set
from sutskever_plugin.data.moses import detokenize, tokenize_line
from sutskever_plugin.data.multi30k import prepare_multi30k
from sutskever_plugin.data.pipeline import SplitSpec, load_summary, tokenize_split
from sutskever_plugin.data.textio import DataPrepError


def lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def load_bin(bin_dir, split, lang, pair="en-fr"):
    from fairseq.data import Dictionary, data_utils

    d = Dictionary.load(os.path.join(bin_dir, f"dict.{lang}.txt"))
    ds = data_utils.load_indexed_dataset(os.path.join(bin_dir, f"{split}.{pair}.{lang}"), d, "mmap")
    assert ds is not None, f"no binarized {split}.{lang} in {bin_dir}"
    return d, [ds[i] for i in range(len(ds))]


def fake_raw_dir(tmp, n=40, edit=None):
    """A Multi30k-like raw dir with the first n lines of each real file; ``edit(name,
    lines) -> bytes lines`` may damage one of them."""
    tmp.mkdir(parents=True, exist_ok=True)
    for stem in multi30k.FILES.values():
        for lang in multi30k.LANGS:
            name = f"{stem}.{lang}.gz"
            with gzip.open(RAW / name, "rb") as f:
                data = [next(f) for _ in range(n)]
            if edit:
                data = edit(name, data)
            with gzip.open(tmp / name, "wb") as f:
                f.writelines(data)
    return tmp


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("m30k") / "data"
    summary = prepare_multi30k(str(out), raw_dir=str(RAW), scale="tiny", quiet=True)
    return out, summary


def test_tiny_layout_counts_and_vocab(tiny):
    out, summary = tiny
    for split, n in (("train", 2000), ("valid", 200), ("test", 200)):
        for lang in ("en", "fr"):
            assert len(lines(out / "tok" / f"{split}.{lang}")) == n
            if split != "train":
                assert len(lines(out / "raw" / f"{split}.{lang}")) == n
    assert lines(out / "raw" / "valid.en")[0] == "A group of men are loading cotton onto a truck"
    assert lines(out / "tok" / "valid.fr")[0] == "Un groupe d' hommes chargent du coton dans un camion"
    assert summary["splits"]["train"]["skipped_empty_pairs"] == 0
    # vocabulary: exactly the training words seen >= 2 times (+4 specials, padded to 8)
    for lang in ("en", "fr"):
        counts = Counter(w for l in lines(out / "tok" / f"train.{lang}") for w in l.split())
        kept = {w for w, c in counts.items() if c >= 2}
        dict_words = [l.rsplit(" ", 1)[0] for l in lines(out / "bin" / f"dict.{lang}.txt")]
        real = [w for w in dict_words if not w.startswith("madeupword")]
        assert set(real) == kept
        size = summary["dictionaries"][f"dict_size_{lang}"]
        assert size == len(dict_words) + 4 and size % 8 == 0
        assert 1000 < size < 2000  # tiny: a smaller vocabulary than small's ~6k
        assert 0 < summary["dictionaries"][f"valid_oov_{lang}"] < 0.2
    assert summary["vocab"]["nwordssrc"] == summary["vocab"]["src_words"] + 4
    assert summary["vocab"]["src_words"] <= 2 * summary["vocab"]["tgt_words"]
    assert "--nwordssrc" in summary["fairseq_preprocess"]


def test_rare_words_become_unk_in_binarized_data(tiny):
    out, _ = tiny
    for lang in ("en", "fr"):
        tok = lines(out / "tok" / f"train.{lang}")
        counts = Counter(w for l in tok for w in l.split())
        d, data = load_bin(out / "bin", "train", lang)
        assert len(data) == len(tok)
        n_unk = 0
        for text, ids in zip(tok, data):
            expect = [w if counts[w] >= 2 else "<unk>" for w in text.split()]
            assert d.string(ids) == " ".join(expect)
            assert ids[-1].item() == d.eos()
            n_unk += expect.count("<unk>")
        singles = sum(1 for c in counts.values() if c == 1)
        assert n_unk == singles > 100


def test_rerun_skips_and_interrupted_step_is_redone(tiny, capsys):
    out, _ = tiny
    bin_file = out / "bin" / "train.en-fr.en.bin"
    before = bin_file.stat().st_mtime_ns
    argv = ["--dataset", "multi30k", "--scale", "tiny", "--raw-dir", str(RAW), "--out", str(out), "--quiet"]
    assert prepare.main(argv) == 0  # the command line, in process
    assert "already done, skipped" in capsys.readouterr().out
    assert bin_file.stat().st_mtime_ns == before
    # an interrupted binarization (no record, a half temp dir) is redone, nothing else
    (out / ".steps" / "binarize.json").unlink()
    (out / "bin.tmp-999").mkdir()
    summary = prepare_multi30k(str(out), raw_dir=str(RAW), scale="tiny", quiet=True)
    assert summary["steps_run"] == ["binarize"]
    assert load_summary(str(out))["dictionaries"] == summary["dictionaries"]


def test_mismatched_line_counts_name_both_files(tmp_path):
    def drop_last(name, data):
        return data[:-1] if name == "val.fr.gz" else data

    raw = fake_raw_dir(tmp_path / "raw", edit=drop_last)
    with pytest.raises(DataPrepError) as e:
        prepare_multi30k(str(tmp_path / "out"), raw_dir=str(raw), scale="tiny", quiet=True)
    msg = str(e.value)
    assert "val.en.gz has 40 lines" in msg and "val.fr.gz has 39" in msg
    assert not (tmp_path / "out" / "tok" / "valid.en").exists()  # no half-written output


def test_non_utf8_names_file_and_line(tmp_path):
    def damage(name, data):
        if name == "train.fr.gz":
            data[6] = b"Un homme \xe9crit.\n"  # Latin-1, not UTF-8
        return data

    raw = fake_raw_dir(tmp_path / "raw", edit=damage)
    with pytest.raises(DataPrepError, match=r"train\.fr\.gz:7: not valid UTF-8"):
        prepare_multi30k(str(tmp_path / "out"), raw_dir=str(raw), scale="tiny", quiet=True)


def test_empty_lines_skipped_in_train_kept_in_test(tmp_path):
    raw = fake_raw_dir(tmp_path / "raw", n=10)
    for name in ("train.fr.gz", "val.en.gz"):
        with gzip.open(raw / name, "rb") as f:
            data = f.readlines()
        data[3] = b"  \t\n"
        with gzip.open(raw / name, "wb") as f:
            f.writelines(data)
    train = SplitSpec("train", [str(raw / "train.en.gz")], [str(raw / "train.fr.gz")], skip_empty=True)
    stats = tokenize_split(train, str(tmp_path / "d"), "en", "fr", workers=1)
    assert stats == {"lines_read": 10, "lines": 9, "skipped_empty_pairs": 1, "empty_lines_kept": 0}
    assert len(lines(tmp_path / "d" / "tok" / "train.fr")) == 9
    valid = SplitSpec("valid", [str(raw / "val.en.gz")], [str(raw / "val.fr.gz")], keep_raw=True)
    stats = tokenize_split(valid, str(tmp_path / "d"), "en", "fr", workers=1)
    assert stats["lines"] == 10 and stats["empty_lines_kept"] == 1
    assert lines(tmp_path / "d" / "tok" / "valid.en")[3] == ""


def test_missing_raw_files_are_downloaded_or_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(multi30k, "BASE_URL", RAW.as_uri())  # a "mirror" on local disk
    files = multi30k.resolve_files(str(tmp_path / "empty"), str(tmp_path / "dl"))
    assert files["valid"]["fr"] == str(tmp_path / "dl" / "val.fr.gz")
    assert (tmp_path / "dl" / "test_2016_flickr.en.gz").read_bytes() == (RAW / "test_2016_flickr.en.gz").read_bytes()
    monkeypatch.setattr(multi30k, "BASE_URL", "http://127.0.0.1:9/multi30k")  # nothing listens
    with pytest.raises(DataPrepError, match=r"could not download http://127\.0\.0\.1:9/multi30k/train\.en\.gz"):
        multi30k.resolve_files(None, str(tmp_path / "dl2"))
    assert not list((tmp_path / "dl2").iterdir())  # no partial download left behind


def test_sentencepiece_variant_has_no_unk(tmp_path):
    out = tmp_path / "data-spm"
    summary = prepare_multi30k(str(out), raw_dir=str(RAW), scale="tiny", bpe="sentencepiece", quiet=True)
    assert summary["bpe"]["type"] == "sentencepiece" and summary["bpe"]["vocab_size"] == 1000
    for lang in ("en", "fr"):
        assert (out / "spm" / f"spm.{lang}.model").exists()
        assert summary["dictionaries"][f"dict_size_{lang}"] == summary["bpe"]["dict_size"][lang]
        for split in ("train", "valid", "test"):
            d, data = load_bin(out / "bin", split, lang)
            assert all((ids != d.unk()).all() for ids in data), f"<unk> in {split}.{lang}"
    # decoding the pieces gives back the Moses-tokenized text (the BLEU reference)
    pieces = lines(out / "spm" / "valid.fr")
    assert postprocess_hypotheses(pieces, str(out)) == lines(out / "tok" / "valid.fr")
    # a character never seen in training is spelled with byte pieces, all in the dictionary
    (encoded,) = spm.encode_lines(["A man sings \u2603 in the snow ."], str(out / "spm" / "spm.en.model"))
    assert "<0xE2>" in encoded.split()
    dict_words = {l.rsplit(" ", 1)[0] for l in lines(out / "bin" / "dict.en.txt")}
    assert set(encoded.split()) <= dict_words

def test_eval_set_prepared_like_training_data(tiny, tmp_path):
    out, _ = tiny
    src, ref = tmp_path / "my.en", tmp_path / "my.fr"
    with gzip.open(RAW / "test_2016_flickr.en.gz", "rt", encoding="utf-8") as f:
        src.write_text("".join(f.readlines()[:30]), encoding="utf-8")
    with gzip.open(RAW / "test_2016_flickr.fr.gz", "rt", encoding="utf-8") as f:
        ref.write_text("".join(f.readlines()[:30]), encoding="utf-8")
    ev = tmp_path / "ev"
    assert prepare_eval_set(str(src), str(ref), str(out), str(ev))["lines"] == 30
    # the same tokens and ids as the data dir's own test split (same 30 first lines)
    assert lines(ev / "tok" / "test.fr") == lines(out / "tok" / "test.fr")[:30]
    assert lines(ev / "raw" / "test.en") == lines(out / "raw" / "test.en")[:30]
    for lang in ("en", "fr"):
        assert (ev / "bin" / f"dict.{lang}.txt").read_bytes() == (out / "bin" / f"dict.{lang}.txt").read_bytes()
        _, mine = load_bin(ev / "bin", "test", lang)
        _, theirs = load_bin(out / "bin", "test", lang)
        assert [t.tolist() for t in mine] == [t.tolist() for t in theirs[:30]]
    # fairseq's translation task (what fairseq-generate uses) loads it, with or without reference
    from fairseq.tasks.translation import TranslationConfig, TranslationTask

    prepare_eval_set(str(src), None, str(out), str(tmp_path / "ev-src"))
    for bin_dir, has_tgt in ((ev / "bin", True), (tmp_path / "ev-src" / "bin", False)):
        task = TranslationTask.setup_task(TranslationConfig(data=str(bin_dir), source_lang="en", target_lang="fr", dataset_impl="mmap"))
        task.load_dataset("test")
        ds = task.dataset("test")
        assert len(ds) == 30 and (ds.tgt is not None) == has_tgt
    # a mismatched reference is refused
    ref.write_text("une ligne\n", encoding="utf-8")
    with pytest.raises(DataPrepError, match="line counts differ"):
        prepare_eval_set(str(src), str(ref), str(out), str(tmp_path / "ev2"))


def test_tokenize_detokenize_roundtrip():
    raw = ["Un homme, en chemise bleue, dit : \"C'est l'été !\""]
    tok = [tokenize_line(raw[0], "fr")]
    assert tok == ["Un homme , en chemise bleue , dit : \" C' est l' été ! \""]
    assert detokenize(tok, "fr") == raw
    assert tokenize_line("Two dogs aren't  running\u2028fast.", "en") == "Two dogs aren 't running fast ."
