"""WMT'14 English->French at the paper's scale, and newstest2014 as an extra test set.

The paper (section 3.1) trained on "a selected subset of 12M sentences" -- Schwenk's
selection (``bitexts.tgz``) -- with ntst1213 (newstest2012 + newstest2013) as dev, ntst14
(newstest2014) as test and 160,000 source / 80,000 target words (every other word -> UNK).
``--dry-run`` prints every step; ``raw_dir`` holds the archives, or the directories they
unpack to, in place of the downloads (docs/paper_scale_cpu.md).
"""
import glob
import logging
import os
from typing import List, Optional, Tuple

from . import vocab
from .binarize import format_command, preprocess_args
from .download import download, extract_tar
from .evalset import prepare_eval_set
from .pipeline import CorpusSpec, SplitSpec, binarize_args, prepare_corpus
from .sgml import parse_sgml_pair
from .textio import DataPrepError, write_lines

logger = logging.getLogger(__name__)

SCHWENK_URL = "http://www-lium.univ-lemans.fr/~schwenk/cslm_joint_paper"
STATMT_URL = "http://www.statmt.org/wmt14"
NEWSTEST2014 = ("newstest2014-fren-src.en.sgm", "newstest2014-fren-ref.fr.sgm")
DEV_SETS = ("newstest2012", "newstest2013")
# the file stems Schwenk's bitexts.tgz is known to hold (we glob, so others work too)
SCHWENK_EXPECTED = ("ccb2_pc30", "crawl", "dev08_11", "ep7_pc45", "nc9", "un2000_pc34")


def archive_urls(schwenk_url: str = SCHWENK_URL, statmt_url: str = STATMT_URL):
    schwenk_url, statmt_url = schwenk_url.rstrip("/"), statmt_url.rstrip("/")
    return {"bitexts": f"{schwenk_url}/data/bitexts.tgz",  # Schwenk's selected 12M pairs
            "dev": f"{statmt_url}/dev.tgz",  # newstest2012, newstest2013 (ntst1213)
            "test-full": f"{statmt_url}/test-full.tgz"}  # newstest2014 SGML (ntst14)


def _find(root: str, name: str, required: bool = True) -> Optional[str]:
    hits = sorted(glob.glob(os.path.join(root, "**", name), recursive=True))
    if not hits and required:
        raise DataPrepError(f"{name} not found under {root}; is the archive complete?")
    return hits[0] if hits else None


def find_bitext_pairs(root: str) -> List[Tuple[str, str]]:
    """Every ``X.en[.gz]`` with a matching ``X.fr[.gz]`` under ``root``, sorted."""
    pairs = []
    for en in (glob.glob(os.path.join(root, "**", "*.en"), recursive=True)
               + glob.glob(os.path.join(root, "**", "*.en.gz"), recursive=True)):
        fr = en[: -len(".en.gz")] + ".fr.gz" if en.endswith(".gz") else en[:-3] + ".fr"
        if os.path.exists(fr):
            pairs.append((en, fr))
    if not pairs:
        raise DataPrepError(f"no <name>.en/<name>.fr pairs under {root}")
    return sorted(pairs)


def sgml_to_text(src_sgm: str, ref_sgm: str, out_prefix: str):
    """newstest SGML pair -> ``out_prefix.{en,fr}`` (+ ``.ids``: docid<TAB>segid)."""
    src_segs, ref_segs = parse_sgml_pair(src_sgm, ref_sgm)
    write_lines(f"{out_prefix}.en", (s.text for s in src_segs))
    write_lines(f"{out_prefix}.fr", (s.text for s in ref_segs))
    write_lines(f"{out_prefix}.ids", (f"{s.docid}\t{s.segid}" for s in src_segs))


def dev_prefixes(out_dir: str, unpacked_dev: str, dry_run: bool = False, say=print) -> List[str]:
    """``PREFIX`` of ``PREFIX.en``/``PREFIX.fr`` for newstest2012 and 2013: the SGML
    converted to text under ``out_dir/sgml`` (ids kept), else dev.tgz's plain text."""
    prefixes = []
    for n in DEV_SETS:
        prefix = os.path.join(out_dir, "sgml", n)
        if dry_run:
            src, ref = f"{unpacked_dev}/dev/{n}-src.en.sgm", f"{unpacked_dev}/dev/{n}-ref.fr.sgm"
        else:
            src, ref = (_find(unpacked_dev, f"{n}-{side}", required=False) for side in ("src.en.sgm", "ref.fr.sgm"))
        if src and ref:
            say(f"    {n}: {src} -> {prefix}.en, {ref} -> {prefix}.fr "
                f"(or dev.tgz's plain {n}.en/.fr when it has no SGML)")
            if not dry_run:
                sgml_to_text(src, ref, prefix)
        else:
            prefix = _find(unpacked_dev, f"{n}.en")[:-3]
            say(f"    {n}: {prefix}.en/.fr (plain text; no {n}-src.en.sgm/-ref.fr.sgm found)")
        prefixes.append(prefix)
    return prefixes


def paper_spec(out_dir: str, unpacked: dict, workers: int, nwordssrc: int, nwordstgt: int,
               dev: List[str], dry_run: bool = False) -> CorpusSpec:
    if dry_run:
        bitexts = [(os.path.join(unpacked["bitexts"], f"**/{n}.en.gz"), os.path.join(unpacked["bitexts"], f"**/{n}.fr.gz"))
                   for n in SCHWENK_EXPECTED]
    else:
        bitexts = find_bitext_pairs(unpacked["bitexts"])
    test = os.path.join(out_dir, "sgml", "newstest2014")
    return CorpusSpec(
        dataset="wmt14",
        scale="paper",
        splits=[
            SplitSpec("train", [e for e, _ in bitexts], [f for _, f in bitexts], skip_empty=True, pretokenized=True),
            SplitSpec("valid", [d + ".en" for d in dev], [d + ".fr" for d in dev], keep_raw=True),
            SplitSpec("test", [test + ".en"], [test + ".fr"], keep_raw=True),
        ],
        nwordssrc=nwordssrc,
        nwordstgt=nwordstgt,
        min_count=None,
        workers=workers,
        notes={"train": "Schwenk's selected subset (bitexts.tgz), all pairs found",
               "valid": "ntst1213 = newstest2012 + newstest2013", "test": "ntst14 = newstest2014 (SGML)"},
    )


def prepare_wmt14_paper(
    out_dir: str,
    workers: int = 8,
    dry_run: bool = False,
    schwenk_url: str = SCHWENK_URL,
    statmt_url: str = STATMT_URL,
    nwordssrc: int = vocab.PAPER_NWORDS_SRC,
    nwordstgt: int = vocab.PAPER_NWORDS_TGT,
    quiet: bool = False,
    raw_dir: Optional[str] = None,
):
    """Download and prepare the paper's WMT'14 En->Fr data; ``dry_run`` only prints.
    ``raw_dir``: the archives, or their unpacked contents, already here (module doc)."""
    out_dir = os.path.abspath(out_dir)
    dl = os.path.join(out_dir, "downloads")
    urls = archive_urls(schwenk_url, statmt_url)
    archives = {n: os.path.join(dl, os.path.basename(u)) for n, u in urls.items()}
    unpacked = {n: os.path.join(dl, n) for n in urls}
    say = print if dry_run else logger.info
    step = iter(range(1, 100))

    for n, u in urls.items():
        given = raw_dir and os.path.abspath(os.path.join(raw_dir, n))
        if given and os.path.isdir(given):
            unpacked[n] = given
            say(f"[{next(step)}] {n}: the unpacked archive given in {unpacked[n]} (nothing downloaded)")
            continue
        given = raw_dir and os.path.abspath(os.path.join(raw_dir, os.path.basename(u)))
        if given and os.path.exists(given):
            archives[n] = given
            say(f"[{next(step)}] {n}: the archive given, {archives[n]} (nothing downloaded)")
        else:
            say(f"[{next(step)}] download {u} -> {archives[n]}")
            if not dry_run:
                download(u, archives[n])
        say(f"    tar -xzf {archives[n]} -C {unpacked[n]}")
        if not dry_run:
            extract_tar(archives[n], unpacked[n])

    test_prefix = os.path.join(out_dir, "sgml", "newstest2014")
    say(f"[{next(step)}] newstest2014 SGML -> text (seg order and ids kept): "
        f"{unpacked['test-full']}/test-full/{NEWSTEST2014[0]} -> {test_prefix}.en, "
        f"{NEWSTEST2014[1]} -> {test_prefix}.fr; ids in {test_prefix}.ids")
    if not dry_run:
        sgml_to_text(_find(unpacked["test-full"], NEWSTEST2014[0]),
                     _find(unpacked["test-full"], NEWSTEST2014[1]), test_prefix)

    say(f"[{next(step)}] dev sets newstest2012 + newstest2013 -> text (seg order and ids kept):")
    dev = dev_prefixes(out_dir, unpacked["dev"], dry_run=dry_run, say=say)
    spec = paper_spec(out_dir, unpacked, workers, nwordssrc, nwordstgt, dev, dry_run=dry_run)
    for s in spec.splits:
        what = "pairs with an empty side skipped" if s.skip_empty else "no line dropped, raw copy kept"
        say(f"[{next(step)}] tokenize {s.name}: sacremoses en/fr (case kept, escape=False, "
            f"aggressive_dash_splits=False{'; Moses escaping undone and text detokenized first' if s.pretokenized else ''}; "
            f"{what}; workers: {workers}) -> {out_dir}/tok/{s.name}.en, .fr")
        for src_f, tgt_f in zip(s.src_files, s.tgt_files):
            say(f"      {src_f} + {tgt_f}")
    args = preprocess_args(os.path.join(out_dir, "bin"), **binarize_args(spec, out_dir))
    say(f"[{next(step)}] binarize: {format_command(args)}")
    say(f"[{next(step)}] write {out_dir}/summary.json (vocab sizes, OOV rates) and one summary line")
    if dry_run:
        print(f"| dry run: nothing downloaded or written; {len(urls)} downloads, "
              f"{nwordssrc} source / {nwordstgt} target words")
        return None
    return prepare_corpus(spec, out_dir, quiet=quiet)


def prepare_newstest2014(
    data_dir: str,
    out_dir: str,
    sgml_dir: Optional[str] = None,
    statmt_url: str = STATMT_URL,
) -> dict:
    """newstest2014 (ntst14) prepared with ``data_dir``'s preparation and dictionaries, from
    the two official .sgm files in ``sgml_dir``, else from WMT'14's ``test-full.tgz``."""
    out_dir = os.path.abspath(out_dir)
    names = [os.path.join(sgml_dir, n) for n in NEWSTEST2014] if sgml_dir else []
    if not names or not all(os.path.exists(p) for p in names):
        dl = os.path.join(out_dir, "downloads")
        archive = download(archive_urls(statmt_url=statmt_url)["test-full"], os.path.join(dl, "test-full.tgz"))
        unpacked = extract_tar(archive, os.path.join(dl, "test-full"))
        names = [_find(unpacked, n) for n in NEWSTEST2014]
    prefix = os.path.join(out_dir, "sgml", "newstest2014")
    sgml_to_text(names[0], names[1], prefix)
    return prepare_eval_set(prefix + ".en", prefix + ".fr", data_dir, out_dir)
