"""N-best rescoring on fairseq's pieces: the score is fairseq's, reversal comes from the
task, an ensemble is fairseq's ensemble, the known best hypothesis moves to the top, the
oracle beats every row, and the Table 2 script runs on the paper-scale (external n-best)
path with a synthetic n-best file."""
import re
import json
import os
import subprocess

import numpy as np
import pytest
import torch

from fairseq.data import Dictionary

from conftest import REPO

import sutskever_plugin  # noqa: F401  (registers the plugin)
from sutskever_plugin.scoring.bleu import tokenized_bleu
from sutskever_plugin.rescoring import combine, oracle, rescore, token_scores
from sutskever_plugin.scoring.bleu_stats import corpus_bleu, sentence_stats
from sutskever_plugin.rescoring.lstm_scorer import LstmScorer
from sutskever_plugin.data.nbest import NbestEntry, NbestFormatError, load_nbest, write_nbest
from sutskever_plugin.machine import commit

SRC_WORDS = "A a man dog woman child is runs on the grass park with ball red .".split()
TGT_WORDS = "Un un homme chien femme enfant est court sur l' herbe parc avec balle rouge .".split()
SOURCES = ["A man runs on the grass .", "A dog is with a child .", "A woman is in the park ."]


def make_dict(words):
    d = Dictionary()
    for w in words:
        d.add_symbol(w)
    return d


def save_checkpoint(path, data_bin, task, seed):
    """A random tiny sutskever_lstm checkpoint, saved as fairseq-train saves one."""
    from fairseq import options, tasks, utils
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from omegaconf import OmegaConf

    args = options.parse_args_and_arch(options.get_training_parser(), [
        str(data_bin), "--task", task, "--arch", "sutskever_lstm_tiny",
        "--encoder-layers", "1", "--decoder-layers", "1", "--encoder-hidden-size", "16",
        "--decoder-hidden-size", "16", "--encoder-embed-dim", "8", "--decoder-embed-dim", "8",
        "--source-lang", "en", "--target-lang", "fr", "--cpu", "--seed", str(seed)])
    cfg = convert_namespace_to_omegaconf(args)
    utils.set_torch_seed(seed)
    model = tasks.setup_task(cfg.task).build_model(cfg.model)
    # a larger init than the paper's +-0.08 so that random models have peaked outputs
    with torch.no_grad():
        for p in model.parameters():
            if p.dtype.is_floating_point:
                p.uniform_(-1.5, 1.5)
        # never predict <s>, <pad>, <unk>: beam outputs then print and re-read exactly
        model.decoder.output_projection.bias[[0, 1, 3]] = -30.0
    torch.save({"cfg": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True), "args": None,
                "model": model.state_dict(), "extra_state": {}, "last_optimizer_state": None,
                "optimizer_history": [{"criterion_name": "CrossEntropyCriterion",
                                       "optimizer_name": "SGD", "num_updates": 0,
                                       "lr_scheduler_state": {"best": None}}]}, path)
    return str(path)


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """WORK layout as Table 1 leaves it: data/{tok,bin,raw}, models/{forward,reversed1..5}.pt."""
    w = tmp_path_factory.mktemp("work")
    data = w / "data"
    for sub in ("tok", "bin", "raw"):
        (data / sub).mkdir(parents=True)
    make_dict(SRC_WORDS).save(str(data / "bin" / "dict.en.txt"))
    make_dict(TGT_WORDS).save(str(data / "bin" / "dict.fr.txt"))
    (data / "summary.json").write_text(json.dumps({
        "dataset": "unit", "scale": "unit", "src": "en", "tgt": "fr",
        "splits": {"test": {"lines": 3}, "valid": {"lines": 3}}}))
    refs = ["Un homme court sur l' herbe .", "Un chien est avec un enfant .",
            "Une femme est dans le parc ."]
    for split in ("test", "valid"):
        (data / "tok" / f"{split}.en").write_text("\n".join(SOURCES) + "\n")
        (data / "tok" / f"{split}.fr").write_text("\n".join(refs) + "\n")
        (data / "raw" / f"{split}.fr").write_text(
            "\n".join(r.replace(" .", ".").replace("' ", "'") for r in refs) + "\n")
    (w / "models").mkdir()
    save_checkpoint(w / "models" / "forward.pt", data / "bin", "translation", 11)
    for k in range(1, 6):
        save_checkpoint(w / "models" / f"reversed{k}.pt", data / "bin", "translation_reversed", k)
    return w


def by_hand_logprob(model, src_ids, tgt_ids):
    """log p(tgt </s> | src) from the model's forward pass, without any fairseq helper."""
    eos = 2
    prev = torch.cat([torch.tensor([eos]), tgt_ids[:-1]])
    net_out = model(src_ids.unsqueeze(0), torch.tensor([len(src_ids)]), prev.unsqueeze(0))
    lprobs = torch.log_softmax(net_out[0].double(), dim=-1)[0]
    return lprobs.gather(1, tgt_ids.unsqueeze(1)).squeeze(1)


@pytest.mark.parametrize("name, reversed_", [("forward", False), ("reversed1", True)])
def test_score_is_log_probability_with_the_tasks_source_order(work, name, reversed_):
    scorer = LstmScorer([str(work / "models" / f"{name}.pt")], data_bin=str(work / "data" / "bin"),
                        use_cuda=False)
    assert scorer.reverses_source is reversed_
    hyp = "Un homme court sur l' herbe ."
    got, _ = scorer.score(SOURCES, [(0, hyp), (1, hyp)])
    model = scorer.models[0]
    src = scorer.src_dict.encode_line(SOURCES[0], add_if_not_exist=False).long()
    tgt = scorer.tgt_dict.encode_line(hyp, add_if_not_exist=False).long()
    words = src[:-1].flip(0) if reversed_ else src[:-1]
    expected = by_hand_logprob(model, torch.cat([words, src[-1:]]), tgt).sum().item()
    assert got[0] == pytest.approx(expected, abs=1e-4)
    # the other order gives another score: reversal really happened (or really did not)
    other = torch.cat([src[:-1].flip(0) if not reversed_ else src[:-1], src[-1:]])
    assert by_hand_logprob(model, other, tgt).sum().item() != pytest.approx(got[0], abs=1e-4)
    assert got[1] != pytest.approx(got[0], abs=1e-6)  # the source matters


def test_ensemble_is_log_of_mean_token_probability(work):
    """fairseq's SequenceScorer averages token probabilities over models, then takes log."""
    paths = [str(work / "models" / f"reversed{k}.pt") for k in (1, 2, 3)]
    pairs = [(0, "Un homme court ."), (1, "Un chien est avec un enfant ."), (2, "femme parc")]
    members = []
    for p in paths:
        s = LstmScorer([p], data_bin=str(work / "data" / "bin"), use_cuda=False)
        members.append(s.score(SOURCES, pairs)[1])
    ens = LstmScorer(paths, data_bin=str(work / "data" / "bin"), use_cuda=False)
    got, got_pos = ens.score(SOURCES, pairs)
    for i in range(len(pairs)):
        per_model = np.stack([m[i] for m in members])          # [models, tokens]
        expected_pos = np.log(np.exp(per_model).mean(axis=0))  # log of mean probability
        np.testing.assert_allclose(got_pos[i], expected_pos, atol=1e-5)
        assert got[i] == pytest.approx(expected_pos.sum(), abs=1e-4)
        # ... which is not the mean of the members' log-probabilities
        assert got[i] > per_model.sum(axis=1).mean() + 1e-6


def test_unknown_words_become_unk_and_are_counted(work):
    scorer = LstmScorer([str(work / "models" / "reversed1.pt")],
                        data_bin=str(work / "data" / "bin"), use_cuda=False)
    scores, _ = scorer.score(["A zebra runs on the grass ."], [(0, "Un zèbre court ."),
                                                               (0, "Un zèbre zèbre .")])
    assert np.isfinite(scores).all()
    assert scorer.src_unk.unk_tokens == 1 and scorer.src_unk.unk_types == {"zebra": 1}
    assert scorer.tgt_unk.unk_tokens == 3 and scorer.tgt_unk.tokens == 8


def _beam_nbest(work, model_name, beam=6):
    """The model's own beam search n-best (fairseq SequenceGenerator, no length norm)."""
    from fairseq.sequence_generator import SequenceGenerator

    scorer = LstmScorer([str(work / "models" / f"{model_name}.pt")],
                        data_bin=str(work / "data" / "bin"), use_cuda=False)
    task = scorer.task
    gen = SequenceGenerator(scorer.models, task.target_dictionary, beam_size=beam,
                            max_len_b=8, normalize_scores=False)
    src = [scorer.src_dict.encode_line(s, add_if_not_exist=False).long() for s in SOURCES]
    ds = task.build_dataset_for_inference(src, [len(s) for s in src])
    sample = ds.collater([ds[i] for i in range(len(ds))])
    out = gen.generate(scorer.models, sample)
    lists = {}
    for i, sid in enumerate(sample["id"].tolist()):
        lists[sid] = [(task.target_dictionary.string(h["tokens"]), float(h["score"]))
                      for h in out[i]]
    return scorer, lists


def test_rescoring_moves_the_models_best_hypothesis_to_the_top(work, tmp_path):
    """Baseline scores favour the model's worst beam hypothesis; the LSTM (lambda = 1, and
    the paper's average when the baseline's preference is mild) puts the model's own best
    first. Scores equal fairseq's beam search scores (same model, same definition)."""
    scorer, lists = _beam_nbest(work, "reversed1")
    blocks = []
    for sid in range(len(SOURCES)):
        hyps = [h for h, _ in lists[sid] if h.strip()]
        assert len(hyps) >= 3
        # baseline order: reversed beam order, the model's best last
        block = [NbestEntry(sid, h, [("LM0", [-1.0])], -0.01 * k)
                 for k, h in enumerate(reversed(hyps))]
        blocks.append(block)
    pairs, keys = token_scores.distinct_pairs(blocks)
    lstm = token_scores.per_block(scorer.score(SOURCES, pairs)[0], keys, blocks)
    for sid, block in enumerate(blocks):
        beam_scores = dict(lists[sid])
        for e, s in zip(block, lstm[sid]):
            assert s == pytest.approx(beam_scores[e.hyp], abs=1e-3)
    for weight in (1.0, 0.5):
        new = combine.rerank(blocks, lstm, weight)
        for sid, block in enumerate(new):
            assert block[0].hyp == lists[sid][0][0]
            assert block[0].feature("LSTM") == [pytest.approx(lists[sid][0][1], abs=1e-3)]
    # lambda = 0 keeps the baseline's order exactly
    assert [b[0].hyp for b in combine.rerank(blocks, lstm, 0.0)] == [b[0].hyp for b in blocks]


def _synthetic_nbest(path, hyps_per_sentence, refs=None):
    """A Moses n-best list: the reference (if given) is placed last, with the worst score."""
    entries = []
    for sid, hyps in enumerate(hyps_per_sentence):
        for k, h in enumerate(hyps):
            entries.append(NbestEntry(sid, h, [("LM0", [-2.0 - k]),
                                               ("TranslationModel0", [-1.0, -0.5 * k])], -k))
    with open(path, "w", encoding="utf-8") as f:
        write_nbest(entries, f)
    return str(path)


SYNTH = [
    ["Un homme court .", "homme court sur l' herbe .", "Un homme court sur l' herbe ."],
    ["Un chien avec un enfant .", "Un chien est avec un enfant .", "chien enfant ."],
    ["Une femme parc .", "femme est dans le parc .", "Une femme est dans le parc ."],
]


def test_cli_writes_one_1best_per_sentence_with_lstm_column(work, tmp_path):
    d = work / "data"
    nb = _synthetic_nbest(tmp_path / "test.nbest", SYNTH)
    out_nb, out_1 = tmp_path / "out.nbest", tmp_path / "out.1best"
    summary = rescore.main([
        "--path", str(work / "models" / "reversed1.pt"), "--data-dir", str(d),
        "--source", str(d / "tok" / "test.en"), "--nbest", nb, "--out-nbest", str(out_nb),
        "--out-1best", str(out_1), "--weight", "tuned", "--dev-source", str(d / "tok" / "valid.en"),
        "--dev-nbest", nb, "--dev-ref", str(d / "tok" / "valid.fr"), "--ref",
        str(d / "tok" / "test.fr"), "--cpu", "--summary-json", str(tmp_path / "s.json")])
    assert len(out_1.read_text().splitlines()) == 3
    blocks = load_nbest(str(out_nb), 3)
    assert [len(b) for b in blocks] == [3, 3, 3]
    for b in blocks:
        assert [e.score for e in b] == sorted((e.score for e in b), reverse=True)
        for e in b:
            w = summary["weight"]
            assert e.score == pytest.approx((1 - w) * e.feature("Baseline")[0]
                                            + w * e.feature("LSTM")[0])
    assert 0.0 <= summary["weight"] <= 1.0 and len(summary["dev_weight_grid"]) == 21
    assert summary["source_unk"]["unk_tokens"] == 1  # "in" is not in the tiny dictionary
    assert json.loads((tmp_path / "s.json").read_text())["sentences"] == 3


def test_cli_rejects_nbest_not_matching_the_source(work, tmp_path):
    d = work / "data"
    nb = _synthetic_nbest(tmp_path / "short.nbest", SYNTH[:2])  # 2 sentences for 3 sources
    with pytest.raises(NbestFormatError, match="short.nbest.*sentence 2 has no hypothesis"):
        rescore.main(["--path", str(work / "models" / "forward.pt"), "--data-dir", str(d),
                      "--source", str(d / "tok" / "test.en"), "--nbest", nb, "--out-nbest",
                      str(tmp_path / "o.nbest"), "--out-1best", str(tmp_path / "o.1best")])
    assert not (tmp_path / "o.1best").exists()


def _rescore_cli(work, tmp_path, key, nbest, *models_or_scores):
    d = work / "data"
    return rescore.main([
        *models_or_scores, "--data-dir", str(d), "--source", str(d / "tok" / "test.en"),
        "--nbest", nbest, "--out-nbest", str(tmp_path / f"{key}.nbest"),
        "--out-1best", str(tmp_path / f"{key}.1best"), "--weight", "tuned",
        "--dev-source", str(d / "tok" / "valid.en"), "--dev-nbest", nbest,
        "--dev-ref", str(d / "tok" / "valid.fr"), "--cpu"])


def test_ensemble_from_saved_token_scores_is_fairseqs_ensemble(work, tmp_path):
    """Table 2 runs each model once: the ensemble rescored from its members' saved token
    scores gets fairseq's ensemble scores (SequenceScorer, models run together), the same
    tuned lambda and the same rescored list; one member's file gives that model's scores."""
    nb = _synthetic_nbest(tmp_path / "test.nbest", SYNTH)
    m = work / "models"
    files = []
    for k in (1, 2, 3):
        files.append(str(tmp_path / f"r{k}.npz"))
        single = _rescore_cli(work, tmp_path, f"r{k}", nb, "--path", str(m / f"reversed{k}.pt"),
                              "--save-token-scores", files[-1])
        assert single["reversed_source"] is True
    together = _rescore_cli(work, tmp_path, "together", nb, "--path",
                            ":".join(str(m / f"reversed{k}.pt") for k in (1, 2, 3)))
    combined = _rescore_cli(work, tmp_path, "combined", nb, "--token-scores", ":".join(files))
    got = [e for b in load_nbest(str(tmp_path / "combined.nbest"), 3) for e in b]
    want = [e for b in load_nbest(str(tmp_path / "together.nbest"), 3) for e in b]
    assert [e.hyp for e in got] == [e.hyp for e in want]
    for g, w in zip(got, want):
        assert g.feature("LSTM")[0] == pytest.approx(w.feature("LSTM")[0], abs=1e-4)
    assert combined["weight"] == together["weight"]
    assert combined["dev_weight_grid"] == together["dev_weight_grid"]
    assert combined["models"] == [str(m / f"reversed{k}.pt") for k in (1, 2, 3)]
    # the <unk> counts come from the members' files (as JSON: pairs become lists)
    assert combined["source_unk"] == json.loads(json.dumps(together["source_unk"]))
    assert len(combined["token_scores_seconds"]) == 3
    # one file alone: that model's own scores, exactly
    _rescore_cli(work, tmp_path, "alone", nb, "--token-scores", files[1])
    assert (tmp_path / "alone.nbest").read_text() == (tmp_path / "r2.nbest").read_text()


def test_token_scores_must_fit_the_list_and_one_task(work, tmp_path):
    nb = _synthetic_nbest(tmp_path / "test.nbest", SYNTH)
    other = _synthetic_nbest(tmp_path / "other.nbest", [SYNTH[0], SYNTH[2], SYNTH[1]])
    m = work / "models"
    fwd, rev = str(tmp_path / "f.npz"), str(tmp_path / "r.npz")
    _rescore_cli(work, tmp_path, "f", nb, "--path", str(m / "forward.pt"), "--save-token-scores", fwd)
    _rescore_cli(work, tmp_path, "r", other, "--path", str(m / "reversed1.pt"),
                 "--save-token-scores", rev)
    with pytest.raises(token_scores.TokenScoresError, match=r"r\.npz: its 'dev' list is not this n-best list"):
        _rescore_cli(work, tmp_path, "x", nb, "--token-scores", rev)
    _rescore_cli(work, tmp_path, "r", nb, "--path", str(m / "reversed1.pt"), "--save-token-scores", rev)
    with pytest.raises(token_scores.TokenScoresError, match=r"r\.npz: scored with reversed_source=True"):
        _rescore_cli(work, tmp_path, "x", nb, "--token-scores", f"{fwd}:{rev}")
    with pytest.raises(SystemExit, match="one of the two"):
        _rescore_cli(work, tmp_path, "x", nb, "--path", str(m / "forward.pt"), "--token-scores", fwd)
    with pytest.raises(SystemExit, match="one checkpoint"):
        _rescore_cli(work, tmp_path, "x", nb, "--path", f"{m / 'reversed1.pt'}:{m / 'reversed2.pt'}",
                     "--save-token-scores", rev)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(token_scores.TokenScoresError, match="junk.npz: not a token-score file"):
        _rescore_cli(work, tmp_path, "x", nb, "--token-scores", str(tmp_path / "junk.npz"))
    assert not (tmp_path / "x.1best").exists()


def test_token_scores_are_refused_for_another_source(work, tmp_path):
    """Issue 40: scores saved for test.en, given another source of the same length (the
    same n-best ids), were used for the wrong sentences, exit 0. A file records the sha256
    of the source and hypotheses of each list it scored, and is refused for any other; a
    file that records none (written before) cannot be checked, and is refused too."""
    nb = _synthetic_nbest(tmp_path / "test.nbest", SYNTH)
    d, m = work / "data", work / "models"
    saved = str(tmp_path / "r1.npz")
    _rescore_cli(work, tmp_path, "r1", nb, "--path", str(m / "reversed1.pt"), "--save-token-scores", saved)
    meta, _ = token_scores.load(saved)
    for name, source in (("test", "test.en"), ("dev", "valid.en")):
        assert meta["inputs"][name]["source_file"] == str(d / "tok" / source)
        assert set(meta["inputs"][name]) == {"source", "nbest", "source_file", "nbest_file"}
    other = tmp_path / "other.en"  # the same number of sentences, other words
    other.write_text("A dog runs on the grass .\nA man is with a child .\nA child is in the park .\n")
    argv = ["--token-scores", saved, "--data-dir", str(d), "--nbest", nb,
            "--out-nbest", str(tmp_path / "x.nbest"), "--out-1best", str(tmp_path / "x.1best")]
    with pytest.raises(token_scores.TokenScoresError,
                       match=r"r1\.npz: its 'test' scores were computed for another source \(.*test\.en;"):
        rescore.main([*argv, "--source", str(other)])
    assert not (tmp_path / "x.1best").exists()
    rescore.main([*argv, "--source", str(d / "tok" / "test.en")])  # its own source: used
    # a file of before the digests were recorded
    data = dict(np.load(saved))
    old_meta = json.loads(bytes(data["meta"]).decode())
    del old_meta["inputs"]
    data["meta"] = np.frombuffer(json.dumps(old_meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **data)
    with pytest.raises(token_scores.TokenScoresError, match="records no digest of the source"):
        rescore.main(["--token-scores", str(tmp_path / "old.npz"), *argv[2:],
                      "--source", str(d / "tok" / "test.en")])


def test_token_score_errors_are_one_line(tmp_path):
    """A TokenScoresError is the user's to fix: the CLIs print it as one line."""
    from sutskever_plugin.errors import is_user_facing, one_line

    (tmp_path / "r.npz").write_bytes(b"PK\x03\x04" + bytes(100))  # cut short
    with pytest.raises(token_scores.TokenScoresError) as e:
        token_scores.load(str(tmp_path / "r.npz"))
    assert is_user_facing(e.value) and "\n" not in one_line(e.value)
    assert "truncated or damaged: 104 bytes, BadZipFile" in str(e.value)
    with pytest.raises(token_scores.TokenScoresError, match="token scores not found: .*nope.npz: score"):
        token_scores.load(str(tmp_path / "nope.npz"))


def test_tuned_weight_maximizes_dev_bleu():
    refs = ["a b c d e", "f g h i j"]
    blocks = [[NbestEntry(0, "a b c x y", [], 0.0), NbestEntry(0, "a b c d e", [], -1.0)],
              [NbestEntry(1, "f g h i j", [], 0.0), NbestEntry(1, "f x y z j", [], -1.0)]]
    lstm = [np.array([-5.0, -1.0]), np.array([-1.0, -2.0])]
    w, table = combine.tune_weight(blocks, lstm, refs)
    assert dict(table)[0.0] < 100.0 and dict(table)[w] == pytest.approx(100.0)
    assert [b[0].hyp for b in combine.rerank(blocks, lstm, w)] == refs


def test_score_spread_on_hand_built_lists():
    # list 1: sd 1 (baseline) and 3 (LSTM); the average (0, -4) picks the LSTM's best (0),
    #         not the baseline's (1)
    # list 2: sd 2 and 0.5; the average (1.5, -1) picks hypothesis 0, the best of both
    # list 3: one hypothesis, nothing to rank: left out
    base = [np.array([0.0, 2.0]), np.array([4.0, 0.0]), np.array([5.0])]
    lstm = [np.array([0.0, -6.0]), np.array([-1.0, -2.0]), np.array([-3.0])]
    s = combine.score_spread(base, lstm)
    assert s["lists"] == 2
    assert s["sd_baseline"] == pytest.approx(1.5) and s["sd_lstm"] == pytest.approx(1.75)
    assert s["sd_ratio"] == pytest.approx(1.75 / 1.5)
    assert s["lambda05_is_lstm_best"] == 1.0 and s["lambda05_is_baseline_best"] == 0.5
    with pytest.raises(ValueError, match="no n-best list has two or more"):
        combine.score_spread([np.array([1.0])], [np.array([2.0])])


def test_bleu_stats_equal_the_projects_scorer():
    rng = np.random.RandomState(0)
    vocab = "a b c d e f".split()
    for _ in range(50):
        n = rng.randint(1, 5)
        hyps = [" ".join(rng.choice(vocab, rng.randint(1, 9))) for _ in range(n)]
        refs = [" ".join(rng.choice(vocab, rng.randint(1, 9))) for _ in range(n)]
        ours = corpus_bleu(sentence_stats(hyps, refs).sum(0))
        assert ours == pytest.approx(tokenized_bleu(hyps, refs).score, abs=1e-9)


def test_oracle_is_at_least_every_selection():
    refs = [" ".join(r) for r in (["Un", "homme", "court", "sur", "l'", "herbe", "."],
                                   ["Un", "chien", "est", "avec", "un", "enfant", "."],
                                   ["Une", "femme", "est", "dans", "le", "parc", "."])]
    blocks = [[NbestEntry(s, h, [], -k) for k, h in enumerate(hyps)] for s, hyps in enumerate(SYNTH)]
    chosen = oracle.oracle_1best(blocks, refs)
    assert chosen == refs  # the references are in the lists
    best = tokenized_bleu(chosen, refs).score
    rng = np.random.RandomState(1)
    for _ in range(30):
        pick = [b[rng.randint(len(b))].hyp for b in blocks]
        assert tokenized_bleu(pick, refs).score <= best + 1e-9


@pytest.mark.slow
def test_table2_script_paper_path_with_external_nbest(work, tmp_path):
    """--scale paper: the baseline lists come from files; no baseline is built; the table,
    the oracle and baseline_bleu.json are written from them."""
    nb_test = _synthetic_nbest(tmp_path / "ntst14.1000best", SYNTH)
    nb_dev = _synthetic_nbest(tmp_path / "ntst1213.1000best", SYNTH)
    results = tmp_path / "results"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["bash", str(REPO / "scripts" / "reproduce_table2.sh"), "--scale", "paper", "--work",
         str(work), "--results", str(results), "--nbest-test", nb_test, "--nbest-dev", nb_dev],
        cwd=REPO, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[table2] baseline: external n-best lists" in proc.stdout
    assert "baseline SMT" not in proc.stdout
    import pandas as pd

    # a short hash such as 387e244 reads as a float unless the column is kept as text
    df = pd.read_csv(results / "table2.csv", dtype={"commit": str})
    lstm_rows = ["Rescoring the baseline 1000-best with a single forward LSTM",
                 "Rescoring the baseline 1000-best with a single reversed LSTM",
                 "Rescoring the baseline 1000-best with an ensemble of 5 reversed LSTMs"]
    assert list(df["method"]) == [
        "Baseline System [29]", "Cho et al. [5]", "Best WMT'14 result [9]", *lstm_rows,
        "Oracle Rescoring of the Baseline 1000-best lists"]
    assert list(df["paper"]) == [33.30, 34.54, 37.0, 35.61, 35.85, 36.5, 45.0]
    assert (df["commit"] == commit()).all()
    ours = df.set_index("method")["ours"]
    # the spread columns, from the rescored lists' Baseline= and LSTM= columns
    spread = df.set_index("method")
    for key, row in zip(("forward", "reversed1", "ensemble5"), lstm_rows):
        cols = [(e.feature("Baseline")[0], e.feature("LSTM")[0], b[0].sent_id)
                for b in load_nbest(str(work / "table2" / f"{key}.nbest"), 3) for e in b]
        frame = pd.DataFrame(cols, columns=["base", "lstm", "sent"])
        sd = frame.groupby("sent").std(ddof=0).mean()
        assert spread.loc[row, "sd_baseline"] == pytest.approx(sd["base"])
        assert spread.loc[row, "sd_lstm"] == pytest.approx(sd["lstm"])
        assert spread.loc[row, "sd_ratio"] == pytest.approx(sd["lstm"] / sd["base"])
        assert 0 <= spread.loc[row, "ours_lstm_alone"] <= ours["Oracle Rescoring of the Baseline 1000-best lists"]
    md = (results / "table2.md").read_text()
    assert "## The two scores' spread within each n-best list" in md
    # the lift of each LSTM row at lambda 0.5 over the baseline, with the paper's beside it
    base_bleu = ours["Baseline System [29]"]
    for row in lstm_rows:
        d = ours[row] - base_bleu
        verdict = "lifts it" if d > 0 else "does not lift it"
        assert f"- {row}: lambda 0.5 gives {ours[row]:.2f} against the baseline's {base_bleu:.2f} ({d:+.2f}): **{verdict}**" in md
    assert "(the paper: +2.31)" in md and "(the paper: +3.20)" in md
    # every reversed seed alone, the ensemble's members; reversed1 is the single row
    seeds = pd.read_csv(results / "table2_seeds.csv")
    assert list(seeds["model"]) == [f"reversed{k}" for k in range(1, 6)]
    assert seeds["ours"].iloc[0] == pytest.approx(ours[lstm_rows[1]])
    lifted = int((seeds["ours"] > base_bleu).sum())
    assert f"the even average lifts the baseline ({base_bleu:.2f}) for {lifted} of 5." in md
    assert f"from commit {commit()}" in md and "1000-best lists with LSTMs" in md
    assert np.isnan(ours["Cho et al. [5]"]) and np.isnan(ours["Best WMT'14 result [9]"])
    assert ours["Oracle Rescoring of the Baseline 1000-best lists"] == pytest.approx(100.0)
    measured = ours.dropna()
    assert (measured <= ours["Oracle Rescoring of the Baseline 1000-best lists"] + 1e-9).all()
    assert (df["scale"] == "paper").all() and (df["nbest_size"] == 1000).all()
    base = json.loads((work / "smt" / "baseline_bleu.json").read_text())
    refs = (work / "data" / "tok" / "test.fr").read_text().splitlines()
    assert base["bleu_tokenized"] == round(tokenized_bleu([h[0] for h in SYNTH], refs).score, 2)
    assert "Table 2" in (results / "table2.md").read_text()
    # a rerun skips every finished step
    again = subprocess.run(
        ["bash", str(REPO / "scripts" / "reproduce_table2.sh"), "--scale", "paper", "--work",
         str(work), "--results", str(results), "--nbest-test", nb_test, "--nbest-dev", nb_dev],
        cwd=REPO, capture_output=True, text=True, env=env)
    # six model passes, the ensemble from their token scores, the oracle
    assert again.returncode == 0 and again.stdout.count("already done, skipped") == 8


def test_table2_script_names_table1_when_models_are_missing(tmp_path):
    work = tmp_path / "w"
    (work / "data" / "tok").mkdir(parents=True)
    for f in ("test.en", "test.fr", "valid.en", "valid.fr"):
        (work / "data" / "tok" / f).write_text("x\n")
    proc = subprocess.run(["bash", str(REPO / "scripts" / "reproduce_table2.sh"), "--scale",
                           "small", "--work", str(work)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "bash scripts/reproduce_table1.sh --scale small" in proc.stderr
    assert "forward.pt" in proc.stderr


@pytest.mark.slow
def test_table2_steps_are_keyed_on_the_lists_and_models(work, tmp_path):
    """A changed n-best list redoes the rescorings and the oracle; a retrained model only
    its own scoring pass and the rescorings it takes part in."""
    import shutil

    w = tmp_path / "w"
    shutil.copytree(work, w)
    nb_test = _synthetic_nbest(tmp_path / "test.nbest", SYNTH)
    nb_dev = _synthetic_nbest(tmp_path / "dev.nbest", SYNTH)
    cmd = ["bash", str(REPO / "scripts" / "reproduce_table2.sh"), "--scale", "paper", "--work", str(w),
           "--results", str(tmp_path / "results"), "--nbest-test", nb_test, "--nbest-dev", nb_dev]
    env = dict(os.environ, OMP_NUM_THREADS="1")

    def redone():
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return sorted(re.findall(r"^\[table2\] (.*): done in \d+ s", proc.stdout, re.M))

    everything = ["oracle", "rescore ensemble of 5 reversed LSTMs", "rescore forward LSTM",
                  "rescore reversed LSTM"] + [f"score reversed{k} (ensemble member)"
                                              for k in (2, 3, 4, 5)]
    assert redone() == everything
    assert redone() == []
    # the same list with another score: the same size, other contents
    text = open(nb_test).read()
    open(nb_test, "w").write(text.replace("-1", "-2", 1))
    assert redone() == everything
    save_checkpoint(w / "models" / "reversed3.pt", w / "data" / "bin", "translation_reversed", 33)
    assert redone() == ["rescore ensemble of 5 reversed LSTMs",
                        "score reversed3 (ensemble member)"]
    # a member's saved token scores removed: its pass is done again; it writes the same
    # file, byte for byte, so the ensemble keyed on it is kept
    scores = w / "table2" / "scores" / "reversed4.npz"
    before = scores.read_bytes()
    scores.unlink()
    assert redone() == ["score reversed4 (ensemble member)"]
    assert scores.read_bytes() == before


def test_progress_lines_while_scoring(capsys, monkeypatch):
    """A long scoring pass says how far it is, at most once per interval, never at the end."""
    from sutskever_plugin.rescoring import lstm_scorer
    clock = iter([0.0, 30.0, 61.0, 90.0, 200.0])
    monkeypatch.setattr(lstm_scorer.time, "monotonic", lambda: next(clock))
    p = lstm_scorer.Progress(total=400, every_s=60)   # t0 = 0
    for _ in range(4):
        p.advance(100)                                # at 30, 61, 90, 200 s
    err = capsys.readouterr().err.splitlines()
    assert err == ["[rescore] 200/400 hypotheses scored (50%, 61 s, about 61 s left)"]
    clock = iter([0.0, 61.0])
    lstm_scorer.Progress(total=400, every_s=60, label="forward").advance(100)
    assert capsys.readouterr().err == "[rescore forward] 100/400 hypotheses scored (25%, 61 s, about 183 s left)\n"
