"""SentencePiece variant: a subword vocabulary with no UNK (not in the paper; an option).

* trained on the *Moses-tokenized* text, so decoded pieces are Moses-tokenized text and
  word-level and subword systems are scored with the paper's metric on the same references;
* BPE by default: on Multi30k it splits less than unigram, and an LSTM without attention
  needs short sequences;
* one model per language, as the paper keeps separate source and target vocabularies;
* ``byte_fallback`` and full character coverage, and the fairseq dictionary holds every
  piece, so fairseq never produces <unk>; :func:`decode_pieces` turns byte pieces back
  into characters (fairseq's ``--post-process sentencepiece`` would not).
"""
import os
from collections import Counter
from typing import Dict, Iterable, List

from .textio import read_lines, write_lines

SP_DEFAULTS = {
    "model_type": "bpe",
    "character_coverage": 1.0,
    "byte_fallback": True,
    "per_language": True,
    "trained_on": "Moses-tokenized training text",
}


def train_model(text_path: str, model_prefix: str, vocab_size: int, threads: int) -> str:
    """Train a SentencePiece model; returns the .model path (written atomically)."""
    import sentencepiece as spm

    model_path = model_prefix + ".model"
    tmp_prefix = f"{model_prefix}.tmp-{os.getpid()}"
    try:
        spm.SentencePieceTrainer.train(
            input=text_path,
            model_prefix=tmp_prefix,
            vocab_size=vocab_size,
            model_type=SP_DEFAULTS["model_type"],
            character_coverage=SP_DEFAULTS["character_coverage"],
            byte_fallback=SP_DEFAULTS["byte_fallback"],
            # a vocabulary a bit short of vocab_size on a small corpus is fine
            hard_vocab_limit=False,
            input_sentence_size=5_000_000,
            shuffle_input_sentence=True,
            num_threads=threads,
            minloglevel=2,
        )
        os.replace(tmp_prefix + ".vocab", model_prefix + ".vocab")
        os.replace(tmp_prefix + ".model", model_path)  # last: .model means complete
    finally:
        for ext in (".model", ".vocab"):
            if os.path.exists(tmp_prefix + ext):
                os.remove(tmp_prefix + ext)
    return model_path


def load(model_path: str):
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=model_path)


def encode_file(model_path: str, in_path: str, out_path: str) -> Counter:
    """Encode a tokenized file into space-separated pieces; returns piece counts."""
    lines = encode_lines(read_lines(in_path), model_path)
    write_lines(out_path, lines)
    return Counter(piece for line in lines for piece in line.split())


def write_fairseq_dict(model_path: str, dict_path: str, counts: Counter) -> int:
    """A fairseq dictionary holding every SentencePiece piece (specials excluded), most
    frequent first in the encoded training text (fairseq's convention; a stable sort, so
    ties keep SentencePiece's order), pieces never used there (byte pieces) last with count 0."""
    sp = load(model_path)
    pieces = [
        sp.id_to_piece(i)
        for i in range(sp.get_piece_size())
        if not (sp.is_control(i) or sp.is_unknown(i))
    ]
    pieces.sort(key=lambda p: -counts.get(p, 0))
    write_lines(dict_path, (f"{p} {counts.get(p, 0)}" for p in pieces))
    return len(pieces)


def decode_pieces(lines: Iterable[str], model_path: str) -> List[str]:
    """Space-separated pieces (fairseq-generate output) -> Moses-tokenized text."""
    sp = load(model_path)
    return [sp.decode_pieces(line.split()) for line in lines]


def encode_lines(lines: Iterable[str], model_path: str) -> List[str]:
    sp = load(model_path)
    return [" ".join(sp.encode(line, out_type=str)) if line else "" for line in lines]


def models_of(summary: Dict, data_dir: str) -> Dict[str, str]:
    return {lang: os.path.join(data_dir, p) for lang, p in summary["bpe"]["models"].items()}
