"""Multi30k Task 1 English-French: the small-scale stand-in for WMT'14 En-Fr.

Raw, cased, untokenized image captions (about 13 words a sentence): train 29,000 pairs,
val 1,014 (our dev set) and test_2016_flickr 1,000 (our test set).  Cite Elliott et al.
2016 and 2017; non-commercial research use (derived from Flickr30K).
"""
import logging
import os
from typing import Dict, Optional

from .download import download
from .pipeline import CorpusSpec, SplitSpec, prepare_corpus

logger = logging.getLogger(__name__)

BASE_URL = "https://github.com/multi30k/dataset/raw/master/data/task1/raw"
# our split name -> Multi30k file stem
FILES = {"train": "train", "valid": "val", "test": "test_2016_flickr"}
LANGS = ("en", "fr")

SCALES = {
    # tiny: a few-minute end-to-end run for tests; the vocabulary follows from the data
    "tiny": {"train": 2000, "valid": 200, "test": 200, "sp_vocab": 1000},
    # small: all of Multi30k
    "small": {"train": None, "valid": None, "test": None, "sp_vocab": 4000},
}


def resolve_files(raw_dir: Optional[str], download_dir: str) -> Dict[str, Dict[str, str]]:
    """Path of every raw file: from ``raw_dir`` when there, else downloaded."""
    files = {split: {} for split in FILES}
    for split, stem in FILES.items():
        for lang in LANGS:
            name = f"{stem}.{lang}.gz"
            local = os.path.join(raw_dir, name) if raw_dir else None
            if local and os.path.exists(local):
                files[split][lang] = local
                continue
            if raw_dir:
                logger.info(f"{local} not found, downloading it")
            os.makedirs(download_dir, exist_ok=True)
            files[split][lang] = download(f"{BASE_URL}/{name}", os.path.join(download_dir, name))
    return files


def prepare_multi30k(
    out_dir: str,
    raw_dir: Optional[str] = None,
    scale: str = "small",
    bpe: Optional[str] = None,
    workers: int = 2,
    quiet: bool = False,
) -> dict:
    """Prepare Multi30k En->Fr into ``out_dir`` (see :mod:`.pipeline` for the layout)."""
    cfg = SCALES[scale]
    files = resolve_files(raw_dir, os.path.join(out_dir, "downloads"))
    splits = [
        SplitSpec(
            name=split,
            src_files=[files[split]["en"]],
            tgt_files=[files[split]["fr"]],
            limit=cfg[split],
            skip_empty=(split == "train"),
            keep_raw=(split != "train"),
        )
        for split in ("train", "valid", "test")
    ]
    spec = CorpusSpec(
        dataset="multi30k",
        scale=scale,
        splits=splits,
        bpe=bpe,
        sp_vocab=cfg["sp_vocab"],
        workers=workers,
        notes={
            "source": f"{BASE_URL}/<file>.gz (multi30k/dataset, task1 raw)",
            "splits": "train=train, valid=val, test=test_2016_flickr",
            "limits": f"first {cfg['train']} / {cfg['valid']} / {cfg['test']} lines" if scale == "tiny" else "all lines",
        },
    )
    return prepare_corpus(spec, out_dir, quiet=quiet)
