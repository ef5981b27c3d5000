"""Decode a tokenized source file into a Moses n-best list, in parallel processes.

The phrase table (filtered to the input's phrases) and the language model are loaded in
the parent and shared with forked workers (copy-on-write), each worker decoding a slice
of the sentences.
"""
import multiprocessing as mp
from typing import List, Optional, Sequence, Set

from ..data.nbest import NbestEntry, write_nbest
from ..data.textio import atomic_open, write_lines
from .decoder import DecoderConfig, PhraseDecoder, group_features
from .lm import NgramLM
from .phrase_table import load_phrase_table

_DECODER: Optional[PhraseDecoder] = None  # set in the parent before forking


def source_phrases(sentences: Sequence[List[str]], max_len: int) -> Set[str]:
    need = set()
    for words in sentences:
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + max_len) + 1):
                need.add(" ".join(words[i:j]))
    return need


def load_decoder(phrase_table: str, lm_path: str, weights, config: DecoderConfig,
                 sentences: Sequence[List[str]]) -> PhraseDecoder:
    pt = load_phrase_table(phrase_table, source_phrases(sentences, config.max_phrase_len))
    return PhraseDecoder(pt, NgramLM(lm_path), weights, config)


def _decode_one(args):
    idx, words = args
    return idx, _DECODER.nbest(words)


def decode_nbest(decoder: PhraseDecoder, sentences: Sequence[List[str]], workers: int = 2,
                 source_name: str = "<source>"):
    """Return per sentence a list of (hyp, feature vector, score), best first."""
    global _DECODER
    for i, words in enumerate(sentences):
        if not words:
            raise ValueError(f"{source_name}:{i + 1}: empty source sentence; the baseline "
                             "cannot translate it (remove or fill the line)")
    _DECODER = decoder
    jobs = list(enumerate(sentences))
    results: List = [None] * len(jobs)
    if workers <= 1 or len(jobs) < 2:
        for j in jobs:
            i, r = _decode_one(j)
            results[i] = r
    else:
        ctx = mp.get_context("fork")
        # longest sentences first, so no worker is left with one long tail sentence
        jobs.sort(key=lambda j: -len(j[1]))
        with ctx.Pool(workers) as pool:
            for i, r in pool.imap_unordered(_decode_one, jobs, chunksize=4):
                results[i] = r
    for i, r in enumerate(results):
        if not r:
            raise RuntimeError(f"{source_name}:{i + 1}: the decoder found no translation")
    return results


def nbest_entries(results) -> List[NbestEntry]:
    out = []
    for sid, hyps in enumerate(results):
        for hyp, feats, score in hyps:
            out.append(NbestEntry(sid, hyp, group_features(feats), score))
    return out


def write_results(results, nbest_path: str, onebest_path: str):
    """Write the n-best list and the 1-best file, each atomically."""
    with atomic_open(nbest_path) as f:
        write_nbest(nbest_entries(results), f)
    write_lines(onebest_path, (hyps[0][0] for hyps in results))
