"""Moses tokenization and detokenization (sacremoses), one setting for the whole project.

The paper trained and scored on Moses-tokenized text (cased BLEU, multi-bleu.perl), and
every corpus here, a user's test set included, goes through :func:`tokenize_line`: case
kept, ``escape=False`` (no ``&quot;`` entities: what the model outputs is what the user
reads), ``aggressive_dash_splits=False`` (the Moses default: "au-dessus" stays one word).
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
def _moses(kind: str, lang: str):
    import sacremoses

    return getattr(sacremoses, kind)(lang=lang)


def tokenize_line(line: str, lang: str) -> str:
    """Moses-tokenize one raw sentence; tokens separated by single spaces."""
    line = normalize_space(line)
    if not line:
        return ""
    out = _moses("MosesTokenizer", lang).tokenize(
        line,
        escape=TOKENIZER_SETTINGS["escape"],
        aggressive_dash_splits=TOKENIZER_SETTINGS["aggressive_dash_splits"],
        return_str=True,
    )
    return normalize_space(out)


def detokenize(lines: Iterable[str], lang: str) -> List[str]:
    """Moses detokenization, for detokenized sacreBLEU of tokenized system output."""
    detok = _moses("MosesDetokenizer", lang)
    return [
        normalize_space(detok.detokenize(line.split(), unescape=False, return_str=True))
        for line in lines
    ]
