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

Command line (the same code, for pipes)::

    python -m sutskever_plugin.data.moses --lang en < raw.en > tok.en
    python -m sutskever_plugin.data.moses --lang fr --detok < tok.fr > detok.fr
"""
import argparse
import multiprocessing
import sys
from typing import Dict, Iterable, Iterator, List, Sequence

from .textio import normalize_space

TOKENIZER_SETTINGS = {
    "name": "sacremoses",
    "escape": False,
    "aggressive_dash_splits": False,
    "case": "kept",
}

_TOKENIZERS: Dict[str, object] = {}
_DETOKENIZERS: Dict[str, object] = {}


def tokenizer_settings() -> dict:
    import sacremoses

    return dict(TOKENIZER_SETTINGS, version=getattr(sacremoses, "__version__", "?"))


def _tokenizer(lang: str):
    if lang not in _TOKENIZERS:
        from sacremoses import MosesTokenizer

        _TOKENIZERS[lang] = MosesTokenizer(lang=lang)
    return _TOKENIZERS[lang]


def _detokenizer(lang: str):
    if lang not in _DETOKENIZERS:
        from sacremoses import MosesDetokenizer

        _DETOKENIZERS[lang] = MosesDetokenizer(lang=lang)
    return _DETOKENIZERS[lang]


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


def _tokenize_chunk(job):
    lang, lines = job
    return tokenize(lines, lang)


def _chunks(lines: Iterable[str], size: int) -> Iterator[List[str]]:
    buf: List[str] = []
    for line in lines:
        buf.append(line)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def tokenize_stream(
    lines: Iterable[str], lang: str, workers: int = 1, chunk_size: int = 2000
) -> Iterator[str]:
    """Tokenize a (possibly huge) stream of lines in order, on ``workers`` processes."""
    if workers <= 1:
        for line in lines:
            yield tokenize_line(line, lang)
        return
    with multiprocessing.Pool(workers) as pool:
        jobs = ((lang, chunk) for chunk in _chunks(lines, chunk_size))
        for out in pool.imap(_tokenize_chunk, jobs):
            yield from out


def main(argv: Sequence[str] = None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lang", required=True)
    p.add_argument("--detok", action="store_true", help="detokenize instead")
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    lines = (line.rstrip("\n") for line in sys.stdin)
    if args.detok:
        out = detokenize(lines, args.lang)
    else:
        out = tokenize_stream(lines, args.lang, args.workers)
    for line in out:
        sys.stdout.write(line + "\n")


if __name__ == "__main__":
    main()
