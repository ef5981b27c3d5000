"""Rescore a Moses n-best list with an LSTM or an ensemble (the paper's Table 2).

    python -m sutskever_plugin.rescoring.rescore --path reversed1.pt[:reversed2.pt:...] \\
        --data-dir work/small/data --source test.en --nbest test.nbest \\
        --out-nbest test.rescored.nbest --out-1best test.rescored.1best \\
        [--weight avg | tuned] [--dev-source valid.en --dev-nbest valid.nbest \\
        --dev-ref valid.fr] [--save-token-scores reversed1.npz]
    # an ensemble from the token scores its members saved (no model is run):
    python -m sutskever_plugin.rescoring.rescore --token-scores r1.npz:r2.npz:... ...

The output n-best list has two added feature columns, ``Baseline=`` (the original total
score) and ``LSTM=`` (log p(hypothesis | source)); its total score is the combined score
and each block is re-sorted.
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
    """SentencePiece encoders of source and target if the prepared data used them (the
    n-best lists are of Moses tokens; a model trained on subwords must see them split)."""
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
    scores, saved, inputs, unk, t0 = {}, {}, {}, {}, time.time()
    for name, (sources, blocks) in lists.items():
        pairs, keys = distinct_pairs(blocks)
        flat, positional = scorer.score(sources, pairs)
        scores[name] = per_block(flat, keys, blocks)
        if args.save_token_scores:
            saved[name] = ListScores.from_positional(pairs, positional)
            # what these scores are of: a later --token-scores run checks it is the same
            source_file, nbest_file = {"test": (args.source, args.nbest),
                                       "dev": (args.dev_source, args.dev_nbest)}[name]
            inputs[name] = {**token_scores.list_digests(sources, pairs),
                            "source_file": source_file, "nbest_file": nbest_file}
        unk[name] = (scorer.src_unk.as_dict(), scorer.tgt_unk.as_dict())
        scorer.reset_counts()
    for name, counts in unk.items():
        summary.update(zip(UNK_KEYS[name], counts))
    if args.save_token_scores:
        token_scores.save(args.save_token_scores, saved, {
            "model": paths[0], "task": summary["task"],
            "reversed_source": scorer.reverses_source, "nbest": args.nbest,
            "unk": unk, "inputs": inputs}, seconds=time.time() - t0)
    return scores, summary


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
    return scores, summary


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Rescore a Moses n-best list with fairseq LSTM models (Table 2)",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--path", help="checkpoint(s), ':'-separated for an ensemble")
    p.add_argument("--token-scores", help="instead of --path: token-score files written by "
                   "--save-token-scores, ':'-separated for an ensemble (no model is run)")
    p.add_argument("--save-token-scores", metavar="FILE", help="with --path of one model: "
                   "also write its token log-probabilities of the lists to FILE (.npz)")
    p.add_argument("--data-dir", help="prepared data dir: dictionaries from its bin/ (else the "
                   "checkpoint's), and SentencePiece encoding if the data used it")
    p.add_argument("--source", required=True, help="tokenized source, one sentence a line")
    p.add_argument("--nbest", required=True, help="Moses n-best list of the source")
    p.add_argument("--out-nbest", required=True)
    p.add_argument("--out-1best", required=True)
    p.add_argument("--weight", default="avg", choices=["avg", "tuned"],
                   help="LSTM weight lambda: 'avg' (paper: 0.5) or 'tuned' (grid search on --dev-*)")
    p.add_argument("--dev-source")
    p.add_argument("--dev-nbest")
    p.add_argument("--dev-ref")
    p.add_argument("--dev-max-sentences", type=int, default=0,
                   help="tune lambda on the first N dev sentences only (0: all)")
    p.add_argument("--ref", help="test references: report BLEU of the new 1-best")
    p.add_argument("--cpu", action="store_true", help="do not use a GPU even if present")
    p.add_argument("--summary-json", help="write counts, weight and BLEU here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.time()
    if bool(args.path) == bool(args.token_scores):
        raise SystemExit("give the models (--path) or the token scores they saved "
                         "(--token-scores), one of the two")
    if args.save_token_scores and (not args.path or ":" in args.path):
        raise SystemExit("--save-token-scores saves one model's scores: give --path one "
                         "checkpoint")
    weight = PAPER_WEIGHT if args.weight == "avg" else None
    missing = [f for f in ("dev_source", "dev_nbest", "dev_ref") if not getattr(args, f)]
    if weight is None and missing:
        raise SystemExit("--weight tuned needs " + ", ".join(
            "--" + m.replace("_", "-") for m in missing))

    # validate every input before the (slow) model loading
    sources, blocks = _read_inputs(args.source, args.nbest)
    lists = {"test": (sources, blocks)}
    if weight is None:
        dev_sources, dev_blocks = _read_inputs(args.dev_source, args.dev_nbest)
        dev_refs = read_lines(args.dev_ref)
        if len(dev_refs) != len(dev_sources):
            raise SystemExit(f"{args.dev_ref} has {len(dev_refs)} lines but "
                             f"{args.dev_source} has {len(dev_sources)}")
        n = args.dev_max_sentences or None
        lists = {"dev": (dev_sources[:n], dev_blocks[:n]), **lists}  # dev first: it decides lambda
    refs = read_lines(args.ref) if args.ref else None
    if refs is not None and len(refs) != len(sources):
        raise SystemExit(f"{args.ref} has {len(refs)} lines but {args.source} has {len(sources)}")

    scores, summary = (_run_models if args.path else _from_token_scores)(args, lists)
    if weight is None:
        weight, table = tune_weight(lists["dev"][1], scores["dev"], dev_refs[:n])
        summary["dev_weight_grid"] = table
        summary["dev_sentences"] = len(lists["dev"][0])
        summary["dev_bleu_at_weight"] = dict(table)[weight]
    new_blocks = rerank(blocks, scores["test"], weight)
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
    line = (f"[rescore] {len(summary['models'])} model(s)"
            f"{' from their token scores' if args.token_scores else ''} under {summary['task']} "
            f"({'reversed' if summary['reversed_source'] else 'forward'} source): {len(sources)} sentences, "
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
