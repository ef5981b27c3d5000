"""Moses tokenization and detokenization (sacremoses), one setting for the whole project.

The paper trained and scored on Moses-tokenized text (its BLEU is multi-bleu.perl on
tokenized output, case kept).  Every corpus of this project -- training data, dev and
test sets and any test set a user brings -- goes through :func:`tokenize_line` with the
settings below, so a model always sees text prepared exactly as its training data.

* case kept (the paper reports cased BLEU);
* ``escape=False``: no ``&quot;``/``&apos;`` entities, the text stays readable and
  what the model outputs is what the user reads;
* ``aggressive_dash_splits=False``: the Moses default; "au-dessus" stays one word, as
  in the standard Moses pipeline of WMT'14 systems.
"""
import functools
from typing import Iterable, List

from .textio import normalize_space

TOKENIZER_SETTINGS = {
    "name": "sacremoses",
    "escape": False,
    "aggressive_dash_splits": False,
    "case": "kept",
}


def tokenizer_settings() -> dict:
    import sacremoses

    return dict(TOKENIZER_SETTINGS, version=getattr(sacremoses, "__version__", "?"))


@functools.cache  # one per language and process
def _tokenizer(lang: str):
    from sacremoses import MosesTokenizer

    return MosesTokenizer(lang=lang)


@functools.cache
def _detokenizer(lang: str):
    from sacremoses import MosesDetokenizer

    return MosesDetokenizer(lang=lang)


def tokenize_line(line: str, lang: str) -> str:
    """Moses-tokenize one raw sentence; tokens separated by single spaces."""
    line = normalize_space(line)
    if not line:
        return ""
    out = _tokenizer(lang).tokenize(
        line,
        escape=TOKENIZER_SETTINGS["escape"],
        aggressive_dash_splits=TOKENIZER_SETTINGS["aggressive_dash_splits"],
        return_str=True,
    )
    return normalize_space(out)


def tokenize(lines: Iterable[str], lang: str) -> List[str]:
    return [tokenize_line(line, lang) for line in lines]


def detokenize(lines: Iterable[str], lang: str) -> List[str]:
    """Moses detokenization, for detokenized sacreBLEU of tokenized system output."""
    detok = _detokenizer(lang)
    return [
        normalize_space(detok.detokenize(line.split(), unescape=False, return_str=True))
        for line in lines
    ]
