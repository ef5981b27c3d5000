"""Build the phrase-based baseline and write its n-best lists (Table 2's baseline).

    python -m sutskever_plugin.smt.build --data work/small/data --out work/small/smt [--nbest 100]

Steps, each printing one line and skipped by a rerun with the same options and inputs
(``steps.Step``, records in ``.steps/``):

1. align       eflomal both directions + grow-diag-final-and     align/
2. phrases     phrase extraction and scoring                     model/phrase-table.gz
3. lm          modified Kneser-Ney n-gram LM of the target side   model/lm.arpa.gz
4. tune        MERT-like weight tuning on valid                  tune/weights.json
5. decode      n-best lists and 1-best of valid and test          {valid,test}.{nbest,1best}
6. bleu        test/valid BLEU with the project's scorer          baseline_bleu.json
"""
import argparse
import functools
import json
import multiprocessing as mp
import os
import sys
import time
from typing import List, Optional, Sequence

from ..data.nbest import NbestEntry, write_nbest
from ..data.textio import atomic_open, count_lines, read_text_lines, write_json, write_lines
from ..machine import describe
from ..scoring.bleu import bleu_summary, find_raw_reference
from ..steps import Step, atomic_path
from .align import eflomal_align, format_links, parse_links, symmetrize_files
from .decoder import DEFAULT_WEIGHTS, FEATURE_NAMES, DecoderConfig, PhraseDecoder, group_features
from .lm import NgramLM, train_kneser_ney, write_arpa
from .phrase_table import build_phrase_table, load_phrase_table, write_phrase_table
from .tune import mert

SRC, TGT = "en", "fr"
TUNE_SEED = 1  # seed of the tuning's random restarts
_DECODER: Optional[PhraseDecoder] = None  # set in the parent before forking the workers


def _tokenized(path: str):
    return [line.split() for line in read_text_lines(path)]


def _decode_one(job):
    idx, words = job
    return idx, _DECODER.nbest(words)


def decode_nbest(decoder: PhraseDecoder, sentences: Sequence[List[str]], workers: int,
                 source_name: str):
    """Per sentence a list of (hyp, feature vector, score), best first. The workers are
    forked, so they share the parent's phrase table and LM (copy-on-write)."""
    global _DECODER
    for i, words in enumerate(sentences):
        if not words:
            raise ValueError(f"{source_name}:{i + 1}: empty source sentence; the baseline "
                             "cannot translate it (remove or fill the line)")
    _DECODER = decoder
    if workers <= 1 or len(sentences) < 2:
        results = [decoder.nbest(words) for words in sentences]
    else:
        results = [None] * len(sentences)
        # longest sentences first, so no worker is left with one long tail sentence
        jobs = sorted(enumerate(sentences), key=lambda j: -len(j[1]))
        with mp.get_context("fork").Pool(workers) as pool:
            for i, r in pool.imap_unordered(_decode_one, jobs, chunksize=4):
                results[i] = r
    for i, r in enumerate(results):
        if not r:
            raise RuntimeError(f"{source_name}:{i + 1}: the decoder found no translation")
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True,
                   help="data dir with tok/{train,valid,test}.{en,fr}, Moses tokenized")
    p.add_argument("--out", required=True, help="output dir, e.g. work/small/smt")
    p.add_argument("--nbest", type=int, default=100, help="n-best size of the final lists")
    p.add_argument("--workers", type=int, default=2, help="decoding processes")
    p.add_argument("--lm-order", type=int, default=4)
    p.add_argument("--stack-size", type=int, default=100, help="stack size of the final decoding")
    p.add_argument("--tune-stack-size", type=int, default=50,
                   help="stack size while tuning (as good a 1-best, 2.5x faster)")
    p.add_argument("--tune-iterations", type=int, default=5)
    p.add_argument("--tune-nbest", type=int, default=100)
    args = p.parse_args(argv)

    t_start = time.time()
    out = args.out
    tok = os.path.join(args.data, "tok")
    inputs = [os.path.join(tok, f"{split}.{lang}") for split in ("train", "valid", "test")
              for lang in (SRC, TGT)]
    train_src, train_tgt, valid_src_path, valid_ref_path, test_src_path, test_ref_path = inputs
    for path in inputs:
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}: run the data preparation first "
                             "(it writes <data>/tok/{train,valid,test}.{en,fr})")
    gdfa = os.path.join(out, "align/train.gdfa")
    pt_path, lm_path = os.path.join(out, "model/phrase-table.gz"), os.path.join(out, "model/lm.arpa.gz")
    weights_path = os.path.join(out, "tune/weights.json")
    timings = {}

    def step(name, outputs, params, fn, inputs):
        record = Step(os.path.join(out, ".steps", f"{name}.json"), params, inputs)
        if not all(os.path.exists(os.path.join(out, o)) for o in outputs):
            record.start()

        def make():
            t0 = time.time()
            try:
                summary = fn()
            except Exception:
                print(f"[smt] {name:8s} FAILED", file=sys.stderr, flush=True)
                raise
            return {"summary": summary, "seconds": round(time.time() - t0, 1)}

        info, ran = record.run(make)
        timings[name] = info["seconds"]
        done = f"{info['summary']} ({info['seconds']:.0f}s)" if ran else f"skipped (done: {info['summary']})"
        print(f"[smt] {name:8s} {done}", flush=True)

    # 1. word alignment ------------------------------------------------------------
    def do_align():
        with atomic_path(os.path.join(out, "align/fwd.links")) as fwd, \
                atomic_path(os.path.join(out, "align/rev.links")) as rev:
            eflomal_align(train_src, train_tgt, fwd, rev)
            links = symmetrize_files(train_src, train_tgt, fwd, rev)
            n_src = count_lines(train_src)
            if len(links) != n_src:
                raise RuntimeError(f"aligner returned {len(links)} alignments for {n_src} pairs")
        write_lines(gdfa, (format_links(a) for a in links))
        return f"{len(links)} sentence pairs aligned, {sum(map(len, links))} links"

    step("align", ["align/train.gdfa"], dict(aligner="eflomal-model3+gdfa"), do_align,
         [train_src, train_tgt])

    # 2. phrase table --------------------------------------------------------------
    cfg = DecoderConfig()

    def do_phrases():
        links = [parse_links(line) for line in read_text_lines(gdfa)]
        rows = build_phrase_table(_tokenized(train_src), _tokenized(train_tgt), links,
                                  max_len=cfg.max_phrase_len)
        with atomic_path(pt_path) as tmp:
            write_phrase_table(rows, tmp)
        return f"{len(rows)} phrase pairs, {len({r[0] for r in rows})} source phrases"

    step("phrases", ["model/phrase-table.gz"], dict(max_phrase_len=cfg.max_phrase_len),
         do_phrases, [train_src, train_tgt, gdfa])

    # 3. language model ------------------------------------------------------------
    def do_lm():
        model = train_kneser_ney(_tokenized(train_tgt), args.lm_order)
        with atomic_path(lm_path) as tmp:
            write_arpa(model, tmp)
        return f"{args.lm_order}-gram modified Kneser-Ney, " + ", ".join(
            f"{len(model[n])} {n}-grams" for n in sorted(model))

    step("lm", ["model/lm.arpa.gz"], dict(lm_order=args.lm_order), do_lm, [train_tgt])

    # decoder shared by tuning and decoding ------------------------------------------
    valid_src = _tokenized(valid_src_path)
    valid_ref = read_text_lines(valid_ref_path)
    test_src = _tokenized(test_src_path)
    dec_params = dict(ttable_limit=cfg.ttable_limit, distortion_limit=cfg.distortion_limit,
                      max_phrase_len=cfg.max_phrase_len)

    @functools.cache  # loaded once, by the first step that decodes
    def decoder():
        # the phrase table filtered to the phrases of the input (Moses'
        # filter-model-given-input.pl)
        phrases = {" ".join(words[i:j]) for words in valid_src + test_src for i in range(len(words))
                   for j in range(i + 1, min(len(words), i + cfg.max_phrase_len) + 1)}
        return PhraseDecoder(load_phrase_table(pt_path, phrases), NgramLM(lm_path),
                             DEFAULT_WEIGHTS, cfg)

    def decode(sents, weights, nbest, stack_size, split):
        dec = decoder()
        dec.w = [float(x) for x in weights]
        dec.cfg.nbest = nbest
        dec.cfg.stack_size = stack_size
        return decode_nbest(dec, sents, args.workers, f"{split}.{SRC}")

    # 4. tuning --------------------------------------------------------------------
    tune_params = dict(dec_params, tune_stack_size=args.tune_stack_size,
                       tune_sentences=len(valid_src), tune_iterations=args.tune_iterations,
                       tune_nbest=args.tune_nbest, seed=TUNE_SEED)

    def do_tune():
        weights, dev_bleu, history = mert(
            lambda w: decode(valid_src, w, args.tune_nbest, args.tune_stack_size, "valid"),
            valid_ref, DEFAULT_WEIGHTS, args.tune_iterations, seed=TUNE_SEED,
            log=lambda msg: print("[smt]   " + msg, flush=True))
        write_json(weights_path,
                   {"feature_names": FEATURE_NAMES, "weights": [float(x) for x in weights],
                    "dev_bleu": dev_bleu, "history": history}, sort_keys=True)
        return (f"dev BLEU {dev_bleu:.2f} on {len(valid_src)} valid sentences after "
                f"{len(history)} iteration(s) (default weights: "
                f"{history[0]['decoded_dev_bleu']:.2f})")

    step("tune", ["tune/weights.json"], tune_params, do_tune,
         [pt_path, lm_path, valid_src_path, valid_ref_path])
    with open(weights_path) as f:
        tuned = json.load(f)["weights"]

    # 5. decoding ------------------------------------------------------------------
    final_params = dict(dec_params, nbest=args.nbest, stack_size=args.stack_size)
    for split, sents, src_path in (("valid", valid_src, valid_src_path),
                                   ("test", test_src, test_src_path)):
        def do_decode(split=split, sents=sents):
            results = decode(sents, tuned, args.nbest, args.stack_size, split)
            with atomic_open(os.path.join(out, f"{split}.nbest")) as f:
                write_nbest((NbestEntry(sid, hyp, group_features(feats), score)
                             for sid, hyps in enumerate(results) for hyp, feats, score in hyps), f)
            write_lines(os.path.join(out, f"{split}.1best"), (hyps[0][0] for hyps in results))
            sizes = [len(r) for r in results]
            return (f"{split}: {len(results)} sentences, {sum(sizes)} hypotheses "
                    f"({min(sizes)}..{max(sizes)} per sentence)")

        step(f"decode-{split}", [f"{split}.nbest", f"{split}.1best"], final_params, do_decode,
             [pt_path, lm_path, weights_path, src_path])

    # 6. BLEU ----------------------------------------------------------------------
    # Top-level keys are the test set's, named as Table 1's score JSONs, so that Table 1's
    # "Baseline System" row reads this file as it reads its own decodes.
    def do_bleu():
        report = {"models": "phrase-based SMT baseline (sutskever_plugin.smt)",
                  "beam": f"stack {args.stack_size}, distortion limit {cfg.distortion_limit}",
                  "data": os.path.abspath(args.data), "nbest": args.nbest,
                  "hardware": describe(), "workers": args.workers,
                  "wall_s": round(sum(timings.values()), 1),
                  "seconds_per_step": {k: round(v, 1) for k, v in timings.items()},
                  "weights": dict(zip([f"{n}[{i}]" for i, n in enumerate(FEATURE_NAMES)],
                                      tuned))}

        def summary(split, ref_path):
            raw = find_raw_reference(args.data, split, TGT)
            return bleu_summary(read_text_lines(os.path.join(out, f"{split}.1best")),
                                read_text_lines(ref_path), TGT,
                                read_text_lines(raw) if raw else None)

        report.update(summary("test", test_ref_path), valid=summary("valid", valid_ref_path))
        write_json(os.path.join(out, "baseline_bleu.json"), report, sort_keys=True)
        return (f"test BLEU {report['bleu_tokenized']:.2f} tokenized, "
                f"{report['sacrebleu_detok']:.2f} detok sacreBLEU")

    step("bleu", ["baseline_bleu.json"], {}, do_bleu,
         [os.path.join(out, "test.1best"), os.path.join(out, "valid.1best"), test_ref_path,
          valid_ref_path])
    print(f"[smt] done in {time.time() - t_start:.0f}s: {out}", flush=True)


if __name__ == "__main__":
    main()
