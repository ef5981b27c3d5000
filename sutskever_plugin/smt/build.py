"""Build the phrase-based baseline and write its n-best lists (Table 2's baseline).

    python -m sutskever_plugin.smt.build --data work/small/data --out work/small/smt \\
        [--nbest 100] [--workers 2]

Steps (each prints one line; a rerun skips a step whose outputs exist and whose
parameters and input files' contents are unchanged: ``sutskever_plugin.steps.Step``,
recorded in ``.steps/<step>.json`` after the step's outputs, each written atomically):

1. align       eflomal both directions + grow-diag-final-and     align/
2. phrases     phrase extraction and scoring                     model/phrase-table.gz
3. lm          modified Kneser-Ney n-gram LM of the target side   model/lm.arpa.gz
4. tune        MERT-like weight tuning on valid                  tune/weights.json
5. decode      n-best lists and 1-best of valid and test          {valid,test}.{nbest,1best}
6. bleu        test/valid BLEU with the project's scorer          baseline_bleu.json

Inputs: ``<data>/tok/{train,valid,test}.{src,tgt}``, Moses tokenized, one sentence a line.
"""
import argparse
import functools
import json
import logging
import os
import sys
import time
from typing import Callable, Dict, List

from ..data.textio import count_lines, read_text_lines, write_json, write_lines
from ..steps import Step
from ..machine import describe
from ..scoring.bleu import bleu_summary, find_raw_reference
from .decoder import DEFAULT_WEIGHTS, FEATURE_NAMES, DecoderConfig


class Steps:
    """The SMT build's steps, with the time each took."""

    def __init__(self, out_dir: str):
        self.out = out_dir
        self.timings: Dict[str, float] = {}

    def run(self, name: str, outputs: List[str], params: Dict, fn: Callable[[], str],
            inputs: List[str] = ()):
        """Run ``fn`` (it returns a one-line summary) unless its outputs exist and it ran
        with the same ``params`` on the same ``inputs``."""
        step = Step(os.path.join(self.out, ".steps", f"{name}.json"), params, inputs)
        if not all(os.path.exists(os.path.join(self.out, o)) for o in outputs):
            step.start()

        def make():
            t0 = time.time()
            try:
                summary = fn()
            except Exception:
                print(f"[smt] {name:8s} FAILED", file=sys.stderr, flush=True)
                raise
            return {"summary": summary, "seconds": round(time.time() - t0, 1)}

        info, ran = step.run(make)
        self.timings[name] = info["seconds"]
        done = f"{info['summary']} ({info['seconds']:.0f}s)" if ran else f"skipped (done: {info['summary']})"
        print(f"[smt] {name:8s} {done}", flush=True)
        return info


def _tokenized(path: str) -> List[List[str]]:
    return [line.split() for line in read_text_lines(path)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="data dir with tok/{train,valid,test}.{src,tgt}")
    p.add_argument("--out", required=True, help="output dir, e.g. work/small/smt")
    p.add_argument("--src", default="en")
    p.add_argument("--tgt", default="fr")
    p.add_argument("--nbest", type=int, default=100, help="n-best size of the final lists")
    p.add_argument("--workers", type=int, default=2, help="decoding processes")
    p.add_argument("--max-phrase-len", type=int, default=7)
    p.add_argument("--lm-order", type=int, default=4)
    p.add_argument("--stack-size", type=int, default=100, help="stack size of the final decoding")
    p.add_argument("--tune-stack-size", type=int, default=50,
                   help="stack size while tuning (as good a 1-best, 2.5x faster)")
    p.add_argument("--ttable-limit", type=int, default=20)
    p.add_argument("--distortion-limit", type=int, default=6)
    p.add_argument("--tune-iterations", type=int, default=5)
    p.add_argument("--tune-sentences", type=int, default=0,
                   help="tune on the first N valid sentences (0: all)")
    p.add_argument("--tune-nbest", type=int, default=100)
    p.add_argument("--seed", type=int, default=1, help="seed of the tuning's random restarts")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    t_start = time.time()
    out = args.out
    for d in ("align", "model", "tune"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    tok = os.path.join(args.data, "tok")
    s, t = args.src, args.tgt
    train_src, train_tgt = os.path.join(tok, f"train.{s}"), os.path.join(tok, f"train.{t}")
    valid_src_path, valid_ref_path = os.path.join(tok, f"valid.{s}"), os.path.join(tok, f"valid.{t}")
    for path in (train_src, train_tgt, valid_src_path, valid_ref_path, os.path.join(tok, f"test.{s}")):
        if not os.path.exists(path):
            raise SystemExit(f"missing {path}: run the data preparation first "
                             "(it writes <data>/tok/{train,valid,test}.{en,fr})")
    steps = Steps(out)
    gdfa = os.path.join(out, "align/train.gdfa")
    pt_path, lm_path = os.path.join(out, "model/phrase-table.gz"), os.path.join(out, "model/lm.arpa.gz")
    weights_path = os.path.join(out, "tune/weights.json")

    # 1. word alignment ------------------------------------------------------------
    def do_align():
        from .align import eflomal_align, format_links, symmetrize_files

        fwd, rev = os.path.join(out, "align/fwd.links.tmp"), os.path.join(out, "align/rev.links.tmp")
        eflomal_align(train_src, train_tgt, fwd, rev)
        links = symmetrize_files(train_src, train_tgt, fwd, rev)
        n_src = count_lines(train_src)
        if len(links) != n_src:
            raise RuntimeError(f"aligner returned {len(links)} alignments for {n_src} pairs")
        os.replace(fwd, os.path.join(out, "align/fwd.links"))
        os.replace(rev, os.path.join(out, "align/rev.links"))
        write_lines(gdfa, (format_links(a) for a in links))
        return f"{len(links)} sentence pairs aligned, {sum(map(len, links))} links"

    steps.run("align", ["align/train.gdfa"], dict(aligner="eflomal-model3+gdfa"), do_align,
              [train_src, train_tgt])

    # 2. phrase table --------------------------------------------------------------
    def do_phrases():
        from .align import parse_links
        from .phrase_table import build_phrase_table, write_phrase_table

        src_s, tgt_s = _tokenized(train_src), _tokenized(train_tgt)
        links = [parse_links(line) for line in read_text_lines(gdfa)]
        rows = build_phrase_table(src_s, tgt_s, links, max_len=args.max_phrase_len)
        write_phrase_table(rows, pt_path + ".tmp")
        os.replace(pt_path + ".tmp", pt_path)
        return f"{len(rows)} phrase pairs, {len({r[0] for r in rows})} source phrases"

    steps.run("phrases", ["model/phrase-table.gz"], dict(max_phrase_len=args.max_phrase_len),
              do_phrases, [train_src, train_tgt, gdfa])

    # 3. language model ------------------------------------------------------------
    def do_lm():
        from .lm import train_kneser_ney, write_arpa

        model = train_kneser_ney(_tokenized(train_tgt), args.lm_order)
        write_arpa(model, lm_path + ".tmp.gz")
        os.replace(lm_path + ".tmp.gz", lm_path)
        return f"{args.lm_order}-gram modified Kneser-Ney, " + ", ".join(
            f"{len(model[n])} {n}-grams" for n in sorted(model))

    steps.run("lm", ["model/lm.arpa.gz"], dict(lm_order=args.lm_order), do_lm, [train_tgt])

    # decoder shared by tuning and decoding ------------------------------------------
    valid_src = _tokenized(valid_src_path)
    valid_ref = read_text_lines(valid_ref_path)
    test_src = _tokenized(os.path.join(tok, f"test.{s}"))
    test_ref_path = os.path.join(tok, f"test.{t}")
    test_ref = read_text_lines(test_ref_path) if os.path.exists(test_ref_path) else None
    cfg = DecoderConfig(stack_size=args.stack_size, ttable_limit=args.ttable_limit,
                        distortion_limit=args.distortion_limit,
                        max_phrase_len=args.max_phrase_len, nbest=args.tune_nbest)
    dec_params = dict(ttable_limit=args.ttable_limit, distortion_limit=args.distortion_limit,
                      max_phrase_len=args.max_phrase_len)

    @functools.cache  # loaded once, by the first step that decodes
    def decoder():
        from .translate import load_decoder

        return load_decoder(pt_path, lm_path, DEFAULT_WEIGHTS, cfg, valid_src + test_src)

    # 4. tuning --------------------------------------------------------------------
    n_tune = args.tune_sentences or len(valid_src)
    tune_src, tune_ref = valid_src[:n_tune], valid_ref[:n_tune]
    tune_params = dict(dec_params, tune_stack_size=args.tune_stack_size,
                       tune_sentences=n_tune, tune_iterations=args.tune_iterations,
                       tune_nbest=args.tune_nbest, seed=args.seed)

    def do_tune():
        from .translate import decode_nbest
        from .tune import mert

        dec = decoder()
        dec.cfg.nbest = args.tune_nbest
        dec.cfg.stack_size = args.tune_stack_size

        def decode(weights):
            dec.set_weights(weights)
            return decode_nbest(dec, tune_src, args.workers, f"valid.{s}")

        weights, dev_bleu, history = mert(
            decode, tune_ref, DEFAULT_WEIGHTS, args.tune_iterations, seed=args.seed,
            log=lambda msg: print("[smt]   " + msg, flush=True))
        write_json(weights_path,
                   {"feature_names": FEATURE_NAMES, "weights": [float(x) for x in weights],
                    "dev_bleu": dev_bleu, "history": history}, sort_keys=True)
        return (f"dev BLEU {dev_bleu:.2f} on {len(tune_src)} valid sentences after "
                f"{len(history)} iteration(s) (default weights: "
                f"{history[0]['decoded_dev_bleu']:.2f})")

    steps.run("tune", ["tune/weights.json"], tune_params, do_tune,
              [pt_path, lm_path, valid_src_path, valid_ref_path])
    with open(weights_path) as f:
        tuned = json.load(f)["weights"]

    # 5. decoding ------------------------------------------------------------------
    final_params = dict(dec_params, nbest=args.nbest, stack_size=args.stack_size)
    for split, sents in (("valid", valid_src), ("test", test_src)):
        def do_decode(split=split, sents=sents):
            from .translate import decode_nbest, write_results

            dec = decoder()
            dec.set_weights(tuned)
            dec.cfg.nbest = args.nbest
            dec.cfg.stack_size = args.stack_size
            results = decode_nbest(dec, sents, args.workers, f"{split}.{s}")
            write_results(results, os.path.join(out, f"{split}.nbest"),
                          os.path.join(out, f"{split}.1best"))
            sizes = [len(r) for r in results]
            return (f"{split}: {len(results)} sentences, {sum(sizes)} hypotheses "
                    f"({min(sizes)}..{max(sizes)} per sentence)")

        steps.run(f"decode-{split}", [f"{split}.nbest", f"{split}.1best"],
                  final_params, do_decode,
                  [pt_path, lm_path, weights_path, os.path.join(tok, f"{split}.{s}")])

    # 6. BLEU ----------------------------------------------------------------------
    # Top-level keys are the test set's, named as Table 1's score JSONs, so that Table 1's
    # "Baseline System" row reads this file as it reads its own decodes.
    def do_bleu():
        report = {"models": "phrase-based SMT baseline (sutskever_plugin.smt)",
                  "beam": f"stack {args.stack_size}, distortion limit {args.distortion_limit}",
                  "data": os.path.abspath(args.data), "nbest": args.nbest,
                  "hardware": describe(), "workers": args.workers,
                  "wall_s": round(sum(steps.timings.values()), 1),
                  "seconds_per_step": {k: round(v, 1) for k, v in steps.timings.items()},
                  "weights": dict(zip([f"{n}[{i}]" for i, n in enumerate(FEATURE_NAMES)],
                                      tuned))}
        for split, ref in (("test", test_ref), ("valid", valid_ref)):
            if ref is None:
                continue
            hyps = read_text_lines(os.path.join(out, f"{split}.1best"))
            raw = find_raw_reference(args.data, split, t)
            res = bleu_summary(hyps, ref, t, read_text_lines(raw) if raw else None)
            if split == "test":
                report.update(res)
            else:
                report["valid"] = res
        write_json(os.path.join(out, "baseline_bleu.json"), report, sort_keys=True)
        if test_ref is not None:
            return (f"test BLEU {report['bleu_tokenized']:.2f} tokenized, "
                    f"{report['sacrebleu_detok']:.2f} detok sacreBLEU")
        return "no test reference: BLEU not computed"

    refs = [p for p in (test_ref_path, valid_ref_path) if os.path.exists(p)]
    steps.run("bleu", ["baseline_bleu.json"], {}, do_bleu,
              [os.path.join(out, "test.1best"), os.path.join(out, "valid.1best")] + refs)
    print(f"[smt] done in {time.time() - t_start:.0f}s: {out}", flush=True)


if __name__ == "__main__":
    main()
