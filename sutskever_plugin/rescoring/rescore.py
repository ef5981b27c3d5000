"""Rescore a Moses n-best list with an LSTM or an ensemble (the paper's Table 2).

    python -m sutskever_plugin.rescoring.rescore --path reversed1.pt[:reversed2.pt:...] \\
        --data-dir work/small/data --source test.en --nbest test.nbest \\
        --out-nbest test.rescored.nbest --out-1best test.rescored.1best \\
        [--weight avg | tuned | 0.3] [--dev-source valid.en --dev-nbest valid.nbest \\
        --dev-ref valid.fr] [--save-token-scores reversed1.npz]
    # an ensemble from the token scores its members saved (no model is run):
    python -m sutskever_plugin.rescoring.rescore --token-scores r1.npz:r2.npz:... ...

The output n-best list has two added feature columns, ``Baseline=`` (the original total
score) and ``LSTM=`` (log p(hypothesis | source)); its total score is the combined score
and each block is re-sorted; the 1-best file has one line per source sentence.
``--save-token-scores`` and ``--token-scores`` (:mod:`.token_scores`) let Table 2 run
every model once.
"""
import argparse
import logging
import os
import sys
import time
from typing import Dict

from .combine import PAPER_WEIGHT, one_best, rerank, tune_weight
from ..data.textio import atomic_open, read_text_lines as read_lines, write_json, write_lines
from ..data.nbest import load_nbest, write_nbest
from .token_scores import ListScores, distinct_pairs, ensemble_scores, per_block
from . import token_scores


def subword_encoders(data_dir):
    """SentencePiece encoders of source and target if the prepared data used them.

    N-best lists and sources are Moses-tokenized words; a model trained on subwords
    must see them split as its training data was.
    """
    if not data_dir or not os.path.exists(os.path.join(data_dir, "summary.json")):
        return None, None
    from ..data.pipeline import load_summary

    summary = load_summary(data_dir)
    if not summary.get("bpe"):
        return None, None
    from ..data import spm

    models = spm.models_of(summary, data_dir)
    return ((lambda lines: spm.encode_lines(lines, models[summary["src"]])),
            (lambda lines: spm.encode_lines(lines, models[summary["tgt"]])))


def _read_inputs(source: str, nbest: str):
    sources = read_lines(source)
    if not sources:
        raise SystemExit(f"{source}: empty source file")
    return sources, load_nbest(nbest, len(sources))


def _unk_text(counts: Dict) -> str:
    return (f"{counts['unk_tokens']}/{counts['tokens']} tokens <unk> "
            f"({counts['unk_types']} types)")


# summary keys of each list's <unk> counts (source, hypotheses)
UNK_KEYS = {"dev": ("dev_source_unk", "dev_hypothesis_unk"),
            "test": ("source_unk", "hypothesis_unk")}


# the source and n-best files of each list (named in the token scores' header)
_FILES = {"test": (lambda a: a.source, lambda a: a.nbest),
          "dev": (lambda a: a.dev_source, lambda a: a.dev_nbest)}


def _run_models(args, lists):
    """Score every list with the models of --path (and save their token scores if asked)."""
    from .lstm_scorer import LstmScorer

    data_bin = os.path.join(args.data_dir, "bin") if args.data_dir else None
    src_encode, tgt_encode = subword_encoders(args.data_dir)
    paths = args.path.split(":")
    scorer = LstmScorer(paths, data_bin=data_bin, use_cuda=False if args.cpu else None,
                        src_encode=src_encode, tgt_encode=tgt_encode)
    summary = {"models": paths, "task": type(scorer.task).__name__,
               "reversed_source": scorer.reverses_source, "nbest": args.nbest}
    save = bool(args.save_token_scores)
    scores, saved, inputs, unk, t0 = {}, {}, {}, {}, time.time()
    for name, (sources, blocks) in lists.items():
        pairs, keys = distinct_pairs(blocks)
        flat, positional = scorer.score(sources, pairs)
        scores[name] = per_block(flat, keys, blocks)
        if save:
            saved[name] = ListScores.from_positional(pairs, positional)
            # what these scores are of: a later --token-scores run checks it is the same
            inputs[name] = {**token_scores.list_digests(sources, pairs),
                            "source_file": _FILES[name][0](args), "nbest_file": _FILES[name][1](args)}
        unk[name] = (scorer.src_unk.as_dict(), scorer.tgt_unk.as_dict())
        scorer.reset_counts()
    for name, counts in unk.items():
        summary.update(zip(UNK_KEYS[name], counts))
    if save:
        token_scores.save(args.save_token_scores, saved, {
            "model": paths[0], "task": summary["task"],
            "reversed_source": scorer.reverses_source, "nbest": args.nbest,
            "unk": unk, "inputs": inputs}, seconds=time.time() - t0)
    return scores, summary, scorer.describe()


def _from_token_scores(args, lists):
    """The lists' scores from --token-scores files: one model's, or their ensemble's."""
    files = args.token_scores.split(":")
    loaded = [(p, *token_scores.load(p)) for p in files]  # each file read once
    scores = {}
    for name, (_, blocks) in lists.items():
        pairs, keys = distinct_pairs(blocks)
        flat, metas = ensemble_scores(loaded, name, pairs, sources=lists[name][0])
        scores[name] = per_block(flat, keys, blocks)
    first = metas[0]
    summary = {"models": [m["model"] for m in metas], "task": first["task"],
               "reversed_source": first["reversed_source"], "nbest": args.nbest,
               "token_scores": files,
               # each model's scoring pass, run once by the step that saved its file
               "token_scores_seconds": [m["seconds"] for m in metas]}
    for name in lists:
        summary.update(zip(UNK_KEYS[name], first["unk"][name]))
    describe = (f"{len(files)} model(s) from their token scores under {first['task']} "
                f"({'reversed' if first['reversed_source'] else 'forward'} source)")
    return scores, summary, describe


def build_parser():
    p = argparse.ArgumentParser(
        description="Rescore a Moses n-best list with fairseq LSTM models (Table 2)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--path", help="checkpoint(s), ':'-separated for an ensemble")
    p.add_argument("--token-scores", help="instead of --path: token-score files written by "
                   "--save-token-scores, ':'-separated for an ensemble (no model is run)")
    p.add_argument("--save-token-scores", metavar="FILE", help="with --path of one model: "
                   "also write its token log-probabilities of the lists to FILE (.npz)")
    p.add_argument("--data-dir", help="prepared data dir (summary.json, bin/): dictionaries "
                   "from its bin/ (else the path stored in the checkpoint), and SentencePiece "
                   "encoding if the data used it")
    p.add_argument("--source", required=True, help="tokenized source, one sentence a line")
    p.add_argument("--nbest", required=True, help="Moses n-best list of the source")
    p.add_argument("--out-nbest", required=True)
    p.add_argument("--out-1best", required=True)
    p.add_argument("--weight", default="avg",
                   help="LSTM weight lambda: 'avg' (paper: 0.5), 'tuned' (grid search on "
                        "--dev-*), or a number in [0, 1]")
    p.add_argument("--dev-source")
    p.add_argument("--dev-nbest")
    p.add_argument("--dev-ref")
    p.add_argument("--dev-max-sentences", type=int, default=0,
                   help="tune lambda on the first N dev sentences only (0: all); one "
                        "scalar needs few sentences, and scoring is the slow part")
    p.add_argument("--ref", help="test references: report BLEU of the new 1-best")
    p.add_argument("--cpu", action="store_true", help="do not use a GPU even if present")
    p.add_argument("--summary-json", help="write counts, weight and BLEU here")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.time()
    if bool(args.path) == bool(args.token_scores):
        raise SystemExit("give the models (--path) or the token scores they saved "
                         "(--token-scores), one of the two")
    if args.save_token_scores and (not args.path or ":" in args.path):
        raise SystemExit("--save-token-scores saves one model's scores: give --path one "
                         "checkpoint")
    if args.weight == "avg":
        weight = PAPER_WEIGHT
    elif args.weight == "tuned":
        weight = None
        missing = [f for f in ("dev_source", "dev_nbest", "dev_ref") if not getattr(args, f)]
        if missing:
            raise SystemExit("--weight tuned needs " + ", ".join(
                "--" + m.replace("_", "-") for m in missing))
    else:
        try:
            weight = float(args.weight)
        except ValueError:
            raise SystemExit(f"--weight must be avg, tuned or a number, not {args.weight!r}")
        if not 0.0 <= weight <= 1.0:
            raise SystemExit(f"--weight {weight} outside [0, 1]")

    # validate every input before the (slow) model loading
    sources, blocks = _read_inputs(args.source, args.nbest)
    dev = None
    if weight is None:
        dev_sources, dev_blocks = _read_inputs(args.dev_source, args.dev_nbest)
        dev_refs = read_lines(args.dev_ref)
        if len(dev_refs) != len(dev_sources):
            raise SystemExit(f"{args.dev_ref} has {len(dev_refs)} lines but "
                             f"{args.dev_source} has {len(dev_sources)}")
        if args.dev_max_sentences:
            n = args.dev_max_sentences
            dev_sources, dev_blocks, dev_refs = dev_sources[:n], dev_blocks[:n], dev_refs[:n]
        dev = (dev_sources, dev_blocks, dev_refs)
    refs = read_lines(args.ref) if args.ref else None
    if refs is not None and len(refs) != len(sources):
        raise SystemExit(f"{args.ref} has {len(refs)} lines but {args.source} has {len(sources)}")

    lists = {"test": (sources, blocks)}
    if dev is not None:
        lists = {"dev": (dev[0], dev[1]), **lists}  # dev first: it decides lambda
    if args.path:
        scores, summary, describe = _run_models(args, lists)
    else:
        scores, summary, describe = _from_token_scores(args, lists)
    if dev is not None:
        weight, table = tune_weight(dev[1], scores["dev"], dev[2])
        summary["dev_weight_grid"] = table
        summary["dev_sentences"] = len(dev[0])
        summary["dev_bleu_at_weight"] = dict(table)[weight]
    lstm = scores["test"]
    new_blocks = rerank(blocks, lstm, weight)
    hyps = one_best(new_blocks)
    with atomic_open(args.out_nbest) as f:
        write_nbest((e for b in new_blocks for e in b), f)
    write_lines(args.out_1best, hyps)
    moved = sum(1 for old, new in zip(blocks, new_blocks) if old[0].hyp != new[0].hyp)
    summary.update({
        "weight": weight, "weight_mode": args.weight, "sentences": len(sources),
        "hypotheses": sum(len(b) for b in blocks), "changed_1best": moved,
        "seconds": round(time.time() - t0, 1),
    })
    line = (f"[rescore] {describe}: {len(sources)} sentences, "
            f"{summary['hypotheses']} hypotheses, lambda={weight:g}, 1-best changed for "
            f"{moved}; source {_unk_text(summary['source_unk'])}, hypotheses "
            f"{_unk_text(summary['hypothesis_unk'])}")
    if refs is not None:
        from ..scoring.bleu import tokenized_bleu

        bleu = tokenized_bleu(hyps, refs)
        summary["bleu_tok"] = round(bleu.score, 2)
        line += f"; tokenized BLEU {bleu.score:.2f}"
    if args.summary_json:
        write_json(args.summary_json, summary, default=str)
    print(line + f" ({summary['seconds']:.0f}s)", flush=True)
    return summary


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
