"""The model analysis (Figures 2 and 3, Table 3): the sentence vectors are the encoder's
final state of the source as the task reads it, the bucket BLEUs are computed on the
right subsets, the plots are written, and the command runs end to end."""
import argparse
import csv
import json

import numpy as np
import torch

from fairseq.data import Dictionary
from fairseq.models import ARCH_CONFIG_REGISTRY, ARCH_MODEL_REGISTRY
from fairseq.tasks.translation import TranslationConfig, TranslationTask

import sutskever_plugin  # noqa: F401  (registers the plugin)
from sutskever_plugin.analysis import buckets as B
from sutskever_plugin.analysis.figure2 import (
    analyse_panels,
    cluster_stats,
    passive_check,
    pca,
    sentence_vectors,
)
from sutskever_plugin.analysis.plots import bucket_figure, pca_figure
from sutskever_plugin.rescoring.lstm_scorer import encode
from sutskever_plugin.machine import commit
from sutskever_plugin.tasks.translation_reversed import (
    TranslationReversedConfig,
    TranslationReversedTask,
)

SRC_WORDS = "A a man dog woman child is watching holding looking at with in the park by held .".split()
LAYERS, HIDDEN = 2, 16
PNG = b"\x89PNG\r\n\x1a\n"


def make_dict(words):
    d = Dictionary()
    for w in words:
        d.add_symbol(w)
    return d


def build(reversed_source, seed=0):
    src, tgt = make_dict(SRC_WORDS), make_dict(["un", "homme", "chien", "."])
    if reversed_source:
        task = TranslationReversedTask(TranslationReversedConfig(), src, tgt)
    else:
        task = TranslationTask(TranslationConfig(), src, tgt)
    args = argparse.Namespace(arch="sutskever_lstm_tiny", encoder_layers=LAYERS,
                              encoder_hidden_size=HIDDEN, encoder_embed_dim=8)
    ARCH_CONFIG_REGISTRY[args.arch](args)
    torch.manual_seed(seed)
    model = ARCH_MODEL_REGISTRY[args.arch].build_model(args, task).eval()
    return model, task


def direct_state(model, ids):
    """The encoder's final (h, c) of every layer for one id sequence, flattened
    [h_1 .. h_L, c_1 .. c_L], computed without the analysis code."""
    with torch.no_grad():
        out = model.encoder(torch.tensor([ids]), torch.tensor([len(ids)]))
    h, c = out["final_hidden"][:, 0], out["final_cell"][:, 0]  # L x H each
    return torch.cat([h.reshape(-1), c.reshape(-1)]).numpy()


PHRASES = ["A man is watching a dog .", "A dog is watching a man .",
           "a woman is holding a child in the park .", "A dog is held by a zebra ."]


def test_vectors_are_the_final_state_of_the_reversed_source():
    model, task = build(reversed_source=True)
    d = task.source_dictionary
    vecs = sentence_vectors(model, task, PHRASES)  # different lengths: one padded batch
    assert vecs.shape == (len(PHRASES), 2 * LAYERS * HIDDEN)
    for i, phrase in enumerate(PHRASES):
        ids = [d.index(w) for w in phrase.split()]
        reversed_ids = ids[::-1] + [d.eos()]  # "c b a </s>", as training reads it
        np.testing.assert_allclose(vecs[i], direct_state(model, reversed_ids), atol=1e-6)
        if i == 0:  # and not the forward reading
            assert not np.allclose(vecs[i], direct_state(model, ids + [d.eos()]), atol=1e-4)
    assert encode(d, PHRASES[3])[1] == ["zebra"]
    assert encode(d, PHRASES[0])[1] == []


def test_forward_model_reads_the_source_forward():
    model, task = build(reversed_source=False)
    d = task.source_dictionary
    vecs = sentence_vectors(model, task, PHRASES[:2])
    for i, phrase in enumerate(PHRASES[:2]):
        ids = [d.index(w) for w in phrase.split()] + [d.eos()]
        np.testing.assert_allclose(vecs[i], direct_state(model, ids), atol=1e-6)


def test_pca_input_is_the_sentence_vectors():
    model, task = build(reversed_source=True, seed=3)
    panel = {"t": [("A man is watching a dog .", "m"), ("A man is looking at a dog .", "m"),
                   ("A dog is watching a man .", "d"), ("A man is held by a dog .", "d"),
                   ("A dog is looking at a man .", "d")]}
    (p,) = analyse_panels(model, task, panel)
    assert p["vectors"].shape == (5, 2 * LAYERS * HIDDEN) and p["dim"] == 2 * LAYERS * HIDDEN
    np.testing.assert_allclose(p["vectors"], sentence_vectors(model, task, [x for x, _ in panel["t"]]))
    np.testing.assert_allclose(p["coords"], pca(p["vectors"])[0])
    assert p["coords"].shape == (5, 2)
    assert p["bow_twins"] == 2  # watching and looking-at pairs share their bags of words
    assert p["passive"] == 1


def test_pca_matches_the_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    coords, explained, components = pca(x, 2)
    cov = np.cov(x - x.mean(0), rowvar=False)
    w, v = np.linalg.eigh(cov)
    top = v[:, ::-1][:, :2]
    for k in range(2):
        assert abs(abs(components[k] @ top[:, k]) - 1) < 1e-8
    np.testing.assert_allclose(explained, w[::-1][:2] / w.sum(), rtol=1e-8)
    np.testing.assert_allclose(coords, (x - x.mean(0)) @ components.T)


def test_cluster_measures_on_a_hand_made_case():
    x = np.array([[0, 0], [0, 1], [10, 0], [10, 1.0]])
    phrases = ["a b c", "a c b", "c b a", "b a c"]
    st = cluster_stats(x, ["p", "p", "q", "q"], phrases)
    assert st["nn_same"] == 4 and st["ratio"] < 0.2 and st["bow_twins"] == 4
    st = cluster_stats(x, ["p", "q", "p", "q"], phrases)
    assert st["nn_same"] == 0 and st["ratio"] > 1
    # the passive phrase (with "by") sits by the active of its own meaning
    assert passive_check(x, ["x y", "x z", "y by x", "z w"], ["p", "q", "p", "q"]) == (0, 1)
    assert passive_check(x, ["x y", "x z", "y by x", "z w"], ["q", "p", "q", "p"]) == (0, 1)
    assert passive_check(np.array([[0, 0], [9, 0], [1, 0], [8, 0.0]]),
                         ["x y", "x z", "y by x", "z w"], ["p", "q", "p", "q"]) == (1, 1)


# --------------------------------------------------------------------------- Figure 3

REFS = [f"le chat numéro {i} est sur le tapis rouge ." for i in range(8)]


def test_length_bucket_bleu_uses_the_right_sentences():
    # short (5 tokens) and long (10 tokens) sources interleaved: buckets pick by index
    src = ["w w w w w" if i % 2 == 0 else "w w w w w w w w w w" for i in range(8)]
    hyps = [REFS[i] if i % 2 == 0 else "zz yy xx ww vv uu" for i in range(8)]
    bks = B.length_buckets(B.token_lengths(src), width=4, start=4, min_size=1)
    assert [(b.label, b.indices) for b in bks] == [("4-7", [0, 2, 4, 6]), ("8-10", [1, 3, 5, 7])]
    rows = B.bucket_table(bks, {"lstm": hyps, "ref": REFS}, REFS, B.token_lengths(src))
    assert [r["lstm"] for r in rows] == [100.0, 0.0]
    assert [r["ref"] for r in rows] == [100.0, 100.0]
    assert [r["sentences"] for r in rows] == [4, 4] and [r["mean"] for r in rows] == [5, 10]
    # too small buckets are merged: one bucket, the whole set's BLEU
    (only,) = B.length_buckets(B.token_lengths(src), min_size=5)
    assert only.indices == list(range(8)) and only.label == "4-10"
    overall = B.bucket_table([only], {"lstm": hyps}, REFS)[0]["lstm"]
    assert 0 < overall < 100


def test_length_buckets_merge_and_label():
    lengths = [2, 5, 6, 9, 13, 14, 15, 30]
    bks = B.length_buckets(lengths, width=4, start=4, min_size=2)
    # 2 joins 4-7; 8-11 holds one sentence and grows over 12-15; 30, alone in 28-31,
    # joins the last bucket, which ends at the longest sentence
    assert [(b.label, len(b.indices)) for b in bks] == [("2-7", 3), ("8-30", 5)]
    assert sorted(i for b in bks for i in b.indices) == list(range(len(lengths)))
    assert all(len(b.indices) >= 2 for b in bks)


def test_rank_groups_use_the_right_sentences():
    train = ["le le le chat chat", "le chat chien", "le zèbre"]
    ranks = B.word_ranks(train)
    assert ranks == {"le": 1, "chat": 2, "chien": 3, "zèbre": 4}
    src = ["le chat", "zèbre inconnu", "le le", "chien zèbre"]
    avg = B.average_ranks(src, ranks)
    assert avg == [1.5, 4.5, 1.0, 3.5]  # an unseen word ranks len(ranks) + 1 = 5
    groups = B.equal_size_groups(avg, 2)
    assert [g.indices for g in groups] == [[0, 2], [1, 3]]
    refs = REFS[:4]
    hyps = ["faux faux faux faux", refs[1], "faux faux faux faux", refs[3]]
    rows = B.bucket_table(groups, {"s": hyps}, refs, avg)
    assert [r["s"] for r in rows] == [0.0, 100.0] and [r["mean"] for r in rows] == [1.25, 4.0]


# --------------------------------------------------------------------------- plots

def test_plots_are_written(tmp_path):
    coords = np.array([[0, 0], [1, 0.5], [2, 1.0]])
    pca_figure([{"title": "t", "coords": coords, "phrases": ["a b", "b a", "a by b"],
                 "meanings": ["x", "y", "x"], "explained": [0.7, 0.2]}], str(tmp_path / "f2.png"))
    rows = [{"bucket": "4-7", "sentences": 3, "s": 10.0, "b": None},
            {"bucket": "8-11", "sentences": 4, "s": 20.0, "b": 5.0}]
    bucket_figure([{"rows": rows, "xlabel": "x", "title": "t"}], ["s", "b"], str(tmp_path / "f3.png"))
    for name in ("f2.png", "f3.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == PNG and len(data) > 2000


# --------------------------------------------------------------------------- end to end

def _save_checkpoint(path, data_bin):
    """A fairseq checkpoint of a random tiny reversed model, as fairseq-train saves one."""
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from omegaconf import OmegaConf

    args = options.parse_args_and_arch(options.get_training_parser(), [
        str(data_bin), "--task", "translation_reversed", "--arch", "sutskever_lstm_tiny",
        "--encoder-layers", str(LAYERS), "--encoder-hidden-size", str(HIDDEN),
        "--encoder-embed-dim", "8", "--source-lang", "en", "--target-lang", "fr", "--cpu"])
    cfg = convert_namespace_to_omegaconf(args)
    model = tasks.setup_task(cfg.task).build_model(cfg.model)
    torch.save({"cfg": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True), "args": None,
                "model": model.state_dict(), "extra_state": {}, "last_optimizer_state": None,
                "optimizer_history": [{"criterion_name": "CrossEntropyCriterion",
                                       "optimizer_name": "SGD", "num_updates": 0,
                                       "lr_scheduler_state": {"best": None}}]}, path)


def test_command_end_to_end(tmp_path):
    from sutskever_plugin.analysis.__main__ import main

    work = tmp_path / "work"
    data = work / "data"
    for sub in ("tok", "bin"):
        (data / sub).mkdir(parents=True)
    (work / "models").mkdir()
    (work / "decode").mkdir()
    (work / "smt").mkdir()
    # 12 short sentences of frequent words, 12 long ones with rare words
    short = [f"A man is here {i} ." for i in range(12)]                               # 6 tokens
    long_ = [f"A rare{i} zebra{i} walks along the long river bank today {i} ." for i in range(12)]  # 12
    src = [s for pair in zip(short, long_) for s in pair]  # interleaved
    refs = [f"ceci est la phrase de référence numéro {i} ." for i in range(24)]
    lstm = [refs[i] if i % 2 == 0 else "x y z w" for i in range(24)]      # right on the short
    base = ["x y z w" if i % 2 == 0 else refs[i] for i in range(24)]      # right on the long
    (data / "tok" / "test.en").write_text("\n".join(src) + "\n")
    (data / "tok" / "test.fr").write_text("\n".join(refs) + "\n")
    (data / "tok" / "train.en").write_text("\n".join(short * 5 + ["A man is watching a dog ."]) + "\n")
    (data / "summary.json").write_text(json.dumps({"dataset": "unit", "scale": "unit",
                                                   "src": "en", "tgt": "fr"}))
    # the words of the paper's right panel with "handed" for "gave", not those of the others
    garden = "I her card garden In , She was handed me she".split()
    make_dict(SRC_WORDS + garden).save(str(data / "bin" / "dict.en.txt"))
    make_dict(["ceci", "est", "la"]).save(str(data / "bin" / "dict.fr.txt"))
    _save_checkpoint(work / "models" / "reversed1.pt", data / "bin")
    (work / "decode" / "ens5_beam12.tok").write_text("\n".join(lstm) + "\n")
    (work / "smt" / "test.1best").write_text("\n".join(base) + "\n")
    out = tmp_path / "results"

    assert main(["--work", str(work), "--out", str(out), "--groups", "2", "--table3", "3"]) == 0

    for png in ("figure2.png", "figure3.png", "figure3_length.png", "figure3_rank.png"):
        data_png = (out / png).read_bytes()
        assert data_png[:8] == PNG and len(data_png) > 2000, png
    png = (out / "figure2_paper.png").read_bytes()  # the panel whose words are known
    assert png[:8] == PNG and len(png) > 2000
    with open(out / "figure2_paper.csv") as f:
        assert {r["panel"] for r in csv.DictReader(f)} == {"paper, right, gave -> handed"}
    with open(out / "figure2.csv") as f:
        f2 = list(csv.DictReader(f))
    assert len(f2) == 20 and {"pc1", "pc2", "phrase", "meaning", "unknown_words"} <= set(f2[0])
    with open(out / "figure3_length.csv") as f:
        f3 = [r for r in csv.DictReader(f) if r["view"].startswith("width")]
    name_l, name_b = "LSTM ensemble (5 reversed, beam 12)", "phrase-based SMT baseline"
    assert [(r["bucket"], r["sentences"], float(r[name_l]), float(r[name_b])) for r in f3] == \
        [("4-7", "12", 100.0, 0.0), ("12", "12", 0.0, 100.0)]
    with open(out / "figure3_rank.csv") as f:
        f3r = list(csv.DictReader(f))
    assert [(float(r[name_l]), float(r[name_b])) for r in f3r] == [(100.0, 0.0), (0.0, 100.0)]
    report = json.loads((out / "analysis.json").read_text())
    assert report["figure2"]["panels"][0]["dim"] == 2 * LAYERS * HIDDEN
    assert "watching" not in report["figure2"]["unknown_in_caption_panels"]
    assert "park" in report["figure2"]["unknown_in_caption_panels"] or \
        "boy" in report["figure2"]["unknown_in_caption_panels"]
    assert {"paper, left", "paper, right"} <= {s["title"] for s in report["figure2"]["paper_skipped"]}
    md = (out / "analysis.md").read_text()
    for needle in ("figure2.png", "figure3.png", "table3.md", "100.0", "BLEU falls as the words"):
        assert needle in md, needle
    t3 = (out / "table3.md").read_text()
    assert t3.count("| Truth |") == 3 and long_[0] in t3  # longest first, in test order
    # every file names the commit of the code that wrote it
    stamp = f"Code: commit {commit()}."
    assert stamp in md and stamp in t3 and report["commit"] == commit()
