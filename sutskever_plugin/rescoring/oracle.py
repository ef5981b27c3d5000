"""Oracle rescoring: the best the n-best list allows (Table 2's last row, "~45").

Per sentence the hypothesis with the highest smoothed sentence BLEU against the reference
(ties keep the baseline's order); the corpus BLEU of that choice estimates the list's
ceiling (sentence-level choices do not exactly maximize corpus BLEU, but come close).

    python -m sutskever_plugin.rescoring.oracle --nbest test.nbest --source test.en \\
        --ref test.fr --out-1best oracle.1best
"""
import argparse
from typing import List, Sequence

from ..scoring.bleu import sentence_bleu_tok, tokenized_bleu
from ..data.textio import count_lines, read_text_lines as read_lines, write_json, write_lines
from ..data.nbest import NbestEntry, load_nbest


def oracle_1best(blocks: Sequence[List[NbestEntry]], refs: Sequence[str]) -> List[str]:
    out = []
    for block, ref in zip(blocks, refs):
        scores = [sentence_bleu_tok(e.hyp, ref) for e in block]
        out.append(block[max(range(len(block)), key=lambda i: (scores[i], -i))].hyp)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description="Oracle (sentence-BLEU) selection from an n-best list")
    p.add_argument("--nbest", required=True)
    p.add_argument("--ref", required=True, help="tokenized references, one per source sentence")
    p.add_argument("--source", help="source file: checks the n-best covers each of its lines")
    p.add_argument("--out-1best", required=True)
    p.add_argument("--summary-json")
    args = p.parse_args(argv)
    refs = read_lines(args.ref)
    n = count_lines(args.source) if args.source else len(refs)
    if n != len(refs):
        raise SystemExit(f"{args.source} has {n} lines but {args.ref} has {len(refs)}")
    blocks = load_nbest(args.nbest, n)
    hyps = oracle_1best(blocks, refs)
    write_lines(args.out_1best, hyps)
    bleu = tokenized_bleu(hyps, refs)
    if args.summary_json:
        write_json(args.summary_json, {"sentences": len(hyps), "bleu_tok": round(bleu.score, 2),
                                       "hypotheses": sum(len(b) for b in blocks)})
    print(f"[oracle] {len(hyps)} sentences from {sum(len(b) for b in blocks)} hypotheses: "
          f"tokenized BLEU {bleu.score:.2f} -> {args.out_1best}", flush=True)


if __name__ == "__main__":
    main()
