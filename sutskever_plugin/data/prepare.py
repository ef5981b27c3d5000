"""Data preparation command line.

Examples::

    # Multi30k En->Fr (small scale; tiny = first 2000/200/200 lines, for tests)
    python -m sutskever_plugin.data.prepare --dataset multi30k --scale small \\
        --raw-dir ../shared/data/multi30k --out work/data
    # ... SentencePiece variant (subword vocabulary, no <unk>)
    python -m sutskever_plugin.data.prepare --dataset multi30k --scale small \\
        --bpe sentencepiece --out work/data-spm
    # WMT'14 En->Fr at the paper's scale (downloads ~GBs); --dry-run prints every step
    python -m sutskever_plugin.data.prepare --dataset wmt14 --scale paper --out work/wmt14 --dry-run
    # newstest2014 prepared with an existing data dir's tokenizer and dictionaries
    python -m sutskever_plugin.data.prepare --dataset newstest2014 --data-dir work/data \\
        --raw-dir ../shared/data/wmt14 --out work/ntst14
    # any raw test set (source + reference), prepared as DATA was
    python -m sutskever_plugin.data.prepare --dataset eval --data-dir work/data \\
        --src my.en --ref my.fr --out work/my-test

Without ``--raw-dir`` (or when it lacks files) the corpora are downloaded from their
canonical URLs into ``OUT/downloads``.  Rerunning with the same arguments skips the
finished steps.
"""
import argparse
import logging
import os
import sys

from .textio import DataPrepError


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sutskever_plugin.data.prepare",
        description="Prepare (tokenize, build vocabularies, binarize) the paper's data.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", required=True, choices=["multi30k", "wmt14", "newstest2014", "eval"])
    p.add_argument("--scale", default=None,
                   help="multi30k: tiny | small (default small); wmt14: paper (default)")
    p.add_argument("--out", required=True, help="output directory (e.g. WORKDIR/data)")
    p.add_argument("--raw-dir", default=None,
                   help="directory with the raw files (multi30k: *.gz; newstest2014: the .sgm "
                        "files; wmt14: bitexts.tgz, dev.tgz, test-full.tgz or the directories "
                        "bitexts/, dev/, test-full/ they unpack to); missing files are downloaded")
    p.add_argument("--bpe", choices=["sentencepiece"], default=None,
                   help="subword vocabulary instead of words + <unk> (not in the paper)")
    p.add_argument("--nwords-src", type=int, default=None,
                   help="wmt14: source dictionary size incl. 4 specials (default 160000)")
    p.add_argument("--nwords-tgt", type=int, default=None,
                   help="wmt14: target dictionary size incl. 4 specials (default 80000)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes for tokenization and fairseq-preprocess "
                        "(default 2; wmt14: all CPUs)")
    p.add_argument("--dry-run", action="store_true", help="wmt14: print every step, do nothing")
    p.add_argument("--quiet", action="store_true", help="hide fairseq-preprocess's output")
    g = p.add_argument_group("eval / newstest2014")
    g.add_argument("--data-dir", default=None, help="a prepared data directory (its summary.json)")
    g.add_argument("--src", default=None, help="eval: raw source file")
    g.add_argument("--ref", default=None, help="eval: raw reference file (optional)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    _setup_logging()
    try:
        run(args)
    except DataPrepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


class _StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time (works under pytest's capture)."""

    def emit(self, record):
        self.stream = sys.stdout
        super().emit(record)


def _setup_logging():
    # our own handler: importing fairseq (via the plugin) may have configured the root one
    log = logging.getLogger("sutskever_plugin")
    if not any(isinstance(h, _StdoutHandler) for h in log.handlers):
        h = _StdoutHandler()
        h.setFormatter(logging.Formatter("%(asctime)s | %(levelname)s | %(name)s | %(message)s",
                                         datefmt="%Y-%m-%d %H:%M:%S"))
        log.addHandler(h)
        log.setLevel(logging.INFO)
        log.propagate = False


def run(args):
    from . import multi30k, wmt14
    from .evalset import prepare_eval_set

    if args.dataset == "multi30k":
        scale = args.scale or "small"
        if scale not in multi30k.SCALES:
            raise DataPrepError(f"--dataset multi30k has --scale {' | '.join(multi30k.SCALES)}, "
                                f"not {scale!r} (the paper's scale is --dataset wmt14 --scale paper)")
        if args.dry_run or args.nwords_src or args.nwords_tgt:
            raise DataPrepError("--dry-run, --nwords-src and --nwords-tgt are for --dataset wmt14 "
                                "(multi30k runs in seconds and sizes its vocabulary from the data)")
        return multi30k.prepare_multi30k(
            args.out, raw_dir=args.raw_dir, scale=scale, bpe=args.bpe,
            workers=args.workers or 2, quiet=args.quiet,
        )
    if args.dataset == "wmt14":
        if (args.scale or "paper") != "paper":
            raise DataPrepError(f"--dataset wmt14 has --scale paper only, not {args.scale!r} (for "
                                f"newstest2014 with a small model: --dataset newstest2014 --data-dir DIR)")
        if args.bpe:
            raise DataPrepError("--bpe is implemented for multi30k only; the paper used words + UNK")
        return wmt14.prepare_wmt14_paper(
            args.out, workers=args.workers or os.cpu_count() or 2, dry_run=args.dry_run,
            nwordssrc=args.nwords_src or wmt14.vocab.PAPER_NWORDS_SRC,
            nwordstgt=args.nwords_tgt or wmt14.vocab.PAPER_NWORDS_TGT,
            quiet=args.quiet, raw_dir=args.raw_dir,
        )
    if not args.data_dir:
        raise DataPrepError(f"--dataset {args.dataset} needs --data-dir (a prepared data directory)")
    if args.dataset == "newstest2014":
        return wmt14.prepare_newstest2014(
            args.data_dir, args.out, sgml_dir=args.raw_dir,
        )
    if not args.src:
        raise DataPrepError("--dataset eval needs --src (and usually --ref)")
    return prepare_eval_set(args.src, args.ref, args.data_dir, args.out,
                            quiet=args.quiet)


if __name__ == "__main__":
    sys.exit(main())
