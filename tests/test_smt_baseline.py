"""The phrase-based baseline: alignment symmetrization, phrase extraction and scoring, the
Kneser-Ney LM, the stack decoder's n-best lists, tuning, and the build command end to end
on a small synthetic corpus with French adjective-noun reordering."""
import json
import math
import os
import random

import numpy as np
import pytest

from sutskever_plugin.scoring.bleu import tokenized_bleu
from sutskever_plugin.scoring.bleu_stats import sentence_stats
from sutskever_plugin.data.nbest import load_nbest
from sutskever_plugin.smt import build
from sutskever_plugin.smt.align import grow_diag_final_and
from sutskever_plugin.smt.decoder import (
    DEFAULT_WEIGHTS,
    DecoderConfig,
    PhraseDecoder,
)
from sutskever_plugin.smt.lm import EOS, NgramLM, train_kneser_ney, write_arpa
from sutskever_plugin.smt.phrase_table import build_phrase_table, extract_phrase_spans
from sutskever_plugin.smt.tune import bleu_of_weights, optimize_weights, pool_arrays

# ----------------------------------------------------------------- a toy language pair
NOUNS = {"dog": ("chien", "m"), "cat": ("chat", "m"), "man": ("homme", "m"),
         "boy": ("garçon", "m"), "horse": ("cheval", "m"), "woman": ("femme", "f"),
         "girl": ("fille", "f"), "car": ("voiture", "f"), "house": ("maison", "f"),
         "ball": ("balle", "f")}
ADJS = {"red": ("rouge", "rouge"), "black": ("noir", "noire"), "small": ("petit", "petite"),
        "green": ("vert", "verte"), "big": ("grand", "grande")}
VERBS = {"runs": "court", "sleeps": "dort", "jumps": "saute", "plays": "joue", "eats": "mange"}
PREPS = {"near": "près de", "in": "dans", "on": "sur", "behind": "derrière"}


def toy_pair(rng):
    n1, a, v, p, n2 = (rng.choice(sorted(d)) for d in (NOUNS, ADJS, VERBS, PREPS, NOUNS))
    (f1, g1), (f2, g2) = NOUNS[n1], NOUNS[n2]
    en = f"a {a} {n1} {v} {p} the {n2} ."
    fr = (f"{'un' if g1 == 'm' else 'une'} {f1} {ADJS[a][0 if g1 == 'm' else 1]} {VERBS[v]} "
          f"{PREPS[p]} {'le' if g2 == 'm' else 'la'} {f2} .")
    return en, fr


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("smt") / "data"
    (d / "tok").mkdir(parents=True)
    rng = random.Random(0)
    for split, n in (("train", 400), ("valid", 25), ("test", 25)):
        pairs = [toy_pair(rng) for _ in range(n)]
        (d / "tok" / f"{split}.en").write_text("".join(e + "\n" for e, _ in pairs))
        (d / "tok" / f"{split}.fr").write_text("".join(f + "\n" for _, f in pairs))
    return d


# ----------------------------------------------------------------- alignment, phrases

def test_grow_diag_final_and():
    fwd = {(0, 0), (1, 2), (2, 1)}
    rev = {(0, 0), (1, 2), (2, 2), (3, 3)}
    sym = grow_diag_final_and(fwd, rev, 4, 4)
    # intersection, then the diagonal neighbour (2, 1)/(2, 2) fills unaligned words, then
    # "final-and" adds (3, 3) whose words are both unaligned
    assert {(0, 0), (1, 2), (3, 3)} <= sym
    assert sym <= fwd | rev


def test_phrase_extraction_is_consistent_with_the_alignment():
    # "a red dog" / "un chien rouge": a-un, red-rouge, dog-chien (crossing)
    links = {(0, 0), (1, 2), (2, 1)}
    spans = set(extract_phrase_spans(3, 3, links, max_len=3))
    assert (1, 2, 1, 2) in spans          # "red dog" <-> "chien rouge"
    assert (1, 1, 2, 2) in spans and (2, 2, 1, 1) in spans
    assert (0, 1, 0, 1) not in spans      # "a red" / "un chien" crosses the alignment
    for s1, s2, t1, t2 in spans:          # no link leaves a pair
        for i, j in links:
            assert (s1 <= i <= s2) == (t1 <= j <= t2)


def test_unaligned_target_words_extend_phrases():
    spans = set(extract_phrase_spans(1, 3, {(0, 1)}, max_len=3))
    assert spans == {(0, 0, t1, t2) for t1 in (0, 1) for t2 in (1, 2)}


def test_phrase_table_probabilities():
    src = [["a", "red", "dog"], ["a", "dog"]]
    tgt = [["un", "chien", "rouge"], ["un", "chien"]]
    links = [{(0, 0), (1, 2), (2, 1)}, {(0, 0), (1, 1)}]
    rows = build_phrase_table(src, tgt, links, max_len=3, keep=100)
    by_src = {}
    for s, t, scores, counts in rows:
        by_src.setdefault(s, []).append(scores[2])
        assert all(0.0 < x <= 1.0 for x in scores)
    for s, direct in by_src.items():  # phi(t|s) sums to one before pruning
        assert sum(direct) == pytest.approx(1.0)
    table = {(s, t): scores for s, t, scores, _ in rows}
    assert table["dog", "chien"][2] == pytest.approx(1.0)
    assert table["red dog", "chien rouge"][3] == pytest.approx(1.0)  # lex(t|s)


# ----------------------------------------------------------------- language model

@pytest.fixture(scope="module")
def toy_lm(toy_data, tmp_path_factory):
    sents = [line.split() for line in (toy_data / "tok" / "train.fr").read_text().splitlines()]
    path = str(tmp_path_factory.mktemp("lm") / "lm.arpa.gz")
    write_arpa(train_kneser_ney(sents, 3), path)
    return NgramLM(path)


def test_kneser_ney_distributions_sum_to_one(toy_lm):
    vocab = [g[0] for g in toy_lm.prob if len(g) == 1 and g[0] != "<s>"]
    for ctx in [(), ("<s>",), ("un", "chien"), ("la",), ("never", "seen")]:
        state = toy_lm.context_state(ctx)
        total = sum(math.exp(toy_lm.score(state, w)[0]) for w in vocab)
        assert total == pytest.approx(1.0, abs=1e-4)


def test_lm_state_minimization_does_not_change_scores(toy_lm):
    words = "un chien rouge court près de la maison .".split() + ["</s>"]
    state, minimized = ("<s>",), toy_lm.begin()
    for w in words:
        # full-history back-off query vs the decoder's minimized state
        full, _ = toy_lm.score(tuple(state[-2:]), w)
        got, minimized = toy_lm.score(minimized, w)
        assert got == pytest.approx(full)
        state = state + (w,)
    assert sentence_logprob(toy_lm, words[:-1]) < 0


def sentence_logprob(lm, words):
    """ln p(words </s>) under ``lm``, word by word from <s>."""
    state, total = lm.begin(), 0.0
    for w in list(words) + [EOS]:
        lp, state = lm.score(state, w)
        total += lp
    return total


# ----------------------------------------------------------------- decoder

@pytest.fixture(scope="module")
def toy_decoder(toy_data, toy_lm):
    from sutskever_plugin.smt.align import eflomal_align, symmetrize_files

    tok = toy_data / "tok"
    work = toy_data.parent
    eflomal_align(str(tok / "train.en"), str(tok / "train.fr"), str(work / "f"), str(work / "r"))
    links = symmetrize_files(str(tok / "train.en"), str(tok / "train.fr"), str(work / "f"),
                             str(work / "r"))
    src = [l.split() for l in (tok / "train.en").read_text().splitlines()]
    tgt = [l.split() for l in (tok / "train.fr").read_text().splitlines()]
    rows = build_phrase_table(src, tgt, links, max_len=5)
    table = {}
    for s, t, scores, _ in rows:
        table.setdefault(s, []).append((tuple(t.split()), tuple(math.log(x) for x in scores)))
    return PhraseDecoder(table, toy_lm, DEFAULT_WEIGHTS, DecoderConfig(nbest=20, stack_size=30))


def test_decoder_nbest_is_sorted_distinct_and_scores_are_weighted_features(toy_decoder, toy_lm):
    out = toy_decoder.nbest("a red dog sleeps near the house .".split())
    assert len(out) == 20
    hyps = [h for h, _, _ in out]
    assert len(set(hyps)) == len(hyps)
    scores = [s for _, _, s in out]
    assert scores == sorted(scores, reverse=True)
    for h, feats, s in out:
        assert s == pytest.approx(float(np.dot(toy_decoder.w, feats)))
        assert feats[1] == pytest.approx(sentence_logprob(toy_lm, h.split()))  # LM0
        assert feats[2] == -len(h.split())                                  # WordPenalty0
        assert feats[0] <= 0 and feats[3] >= 1                              # distortion, phrases
    assert hyps[0] == "un chien rouge dort près de la maison ."


def test_unknown_words_are_copied(toy_decoder):
    out = toy_decoder.nbest("a red zebra sleeps .".split())
    assert "zebra" in out[0][0].split()


def test_empty_source_line_is_an_error_naming_the_line(toy_decoder):
    from sutskever_plugin.smt.build import decode_nbest

    with pytest.raises(ValueError, match=r"^test.en:2: empty source sentence"):
        decode_nbest(toy_decoder, [["a", "dog", "."], []], workers=1, source_name="test.en")


def test_distortion_limit_zero_is_monotone(toy_decoder):
    toy_decoder.cfg.distortion_limit = 0
    try:
        for _, feats, _ in toy_decoder.nbest("a red dog sleeps near the house .".split()):
            assert feats[0] == 0
    finally:
        toy_decoder.cfg.distortion_limit = 6


# ----------------------------------------------------------------- tuning

def test_optimizer_finds_weights_that_pick_the_references():
    rng = np.random.RandomState(0)
    refs = ["a b c d e f", "g h i j k l", "m n o p q r"]
    pool = [{} for _ in refs]
    true_w = np.array([0.2, -0.7, 0.1])
    for s, ref in enumerate(refs):
        cands = [ref] + [" ".join(rng.permutation(ref.split())) for _ in range(6)]
        feats = rng.normal(size=(len(cands), 3))
        # make the reference the argmax of true_w
        feats[0] = feats[1:].max(0) * np.sign(true_w) + np.sign(true_w)
        for h, f, st in zip(cands, feats, sentence_stats(cands, [ref] * len(cands))):
            pool[s].setdefault(h, (f, st))
    F, S, V = pool_arrays(pool)
    w, bleu = optimize_weights(F, S, V, init=[0.0, 0.0, 1.0], restarts=3)
    assert bleu == pytest.approx(100.0)
    assert bleu_of_weights(w, F, S, V) == pytest.approx(100.0)
    assert np.abs(w).sum() == pytest.approx(1.0)


# ----------------------------------------------------------------- build end to end

def test_build_end_to_end_writes_one_nbest_block_per_sentence(toy_data, tmp_path, capsys):
    out = tmp_path / "smt"
    args = ["--data", str(toy_data), "--out", str(out), "--nbest", "10", "--tune-iterations",
            "2", "--tune-nbest", "10", "--stack-size", "20", "--tune-stack-size", "10",
            "--lm-order", "3", "--workers", "2"]
    build.main(args)
    lines = capsys.readouterr().out.splitlines()
    for step in ("align", "phrases", "lm", "tune", "decode-valid", "decode-test", "bleu"):
        assert sum(l.startswith(f"[smt] {step} ") for l in lines) == 1, lines
    for split in ("valid", "test"):
        n = len((toy_data / "tok" / f"{split}.en").read_text().splitlines())
        blocks = load_nbest(str(out / f"{split}.nbest"), n)
        assert len(blocks) == n and all(1 <= len(b) <= 10 for b in blocks)
        for b in blocks:
            assert [e.score for e in b] == sorted((e.score for e in b), reverse=True)
            assert [n for n, _ in b[0].features] == ["Distortion0", "LM0", "WordPenalty0",
                                                     "PhrasePenalty0", "TranslationModel0"]
        onebest = (out / f"{split}.1best").read_text().splitlines()
        assert onebest == [b[0].hyp for b in blocks]
    report = json.loads((out / "baseline_bleu.json").read_text())
    refs = (toy_data / "tok" / "test.fr").read_text().splitlines()
    assert report["bleu_tokenized"] == round(
        tokenized_bleu((out / "test.1best").read_text().splitlines(), refs).score, 2)
    assert report["bleu_tokenized"] > 60  # the toy language is easy, reordering included
    assert {"sacrebleu_detok", "sacrebleu_signature", "wall_s", "valid"} <= set(report)
    assert not list(out.rglob("*.tmp"))

    # a rerun skips every step; a step whose marker is missing (interrupted) is redone
    build.main(args)
    assert capsys.readouterr().out.count("skipped") == 7
    (out / "test.nbest").write_text("0 ||| half a fi")  # an interrupted write...
    os.remove(out / ".steps" / "decode-test.json")      # ...never got its record
    build.main(args)
    text = capsys.readouterr().out
    assert "[smt] decode-test test:" in text, text
    assert text.count("skipped") == 6  # the others, bleu too (same 1-best, same digest)
    assert len(load_nbest(str(out / "test.nbest"), 25)) == 25
