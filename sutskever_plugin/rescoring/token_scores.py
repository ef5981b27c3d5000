"""One model's token log-probabilities over n-best lists, saved once (``rescore
--save-token-scores``), combined later into an ensemble's scores (``rescore
--token-scores``) as fairseq's ``SequenceScorer`` combines an ensemble: per token, the log
of the members' averaged probabilities. Table 2 thus runs every model once.

A file (``.npz``) holds, per list (``test``, ``dev``), the distinct ``(sentence id,
hypothesis)`` pairs, their token log-probabilities (float32, ``</s>`` included) with
offsets, and a JSON header with the sha256 of the source sentences and hypotheses they
were computed for: a file for other sentences, without digests or damaged is refused
(:class:`TokenScoresError`).
"""
import hashlib
import json
import os
import zipfile
import zlib
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..data.textio import atomic_path
from ..errors import user_facing

Pair = Tuple[int, str]


def distinct_pairs(blocks) -> Tuple[List[Pair], np.ndarray]:
    """The distinct ``(sent_id, hyp)`` pairs of n-best blocks (a duplicate is scored once)
    and, for every entry in block order, the index of its pair."""
    index: Dict[Pair, int] = {}
    keys = []
    for block in blocks:
        for e in block:
            keys.append(index.setdefault((e.sent_id, e.hyp), len(index)))
    return list(index), np.asarray(keys, dtype=np.int64)


def per_block(flat: np.ndarray, keys: np.ndarray, blocks) -> List[np.ndarray]:
    """Pair scores ``flat`` laid out as one array per n-best block."""
    return np.split(flat[keys], np.cumsum([len(b) for b in blocks])[:-1])


@dataclass
class ListScores:
    """One model's scores of one list: ``tokens[offsets[i]:offsets[i + 1]]`` are pair i's."""

    pairs: List[Pair]
    tokens: np.ndarray   # float32
    offsets: np.ndarray  # int64, len(pairs) + 1

    @classmethod
    def from_positional(cls, pairs: Sequence[Pair], positional: Sequence[np.ndarray]):
        lengths = [len(p) for p in positional]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return cls(list(pairs), np.concatenate(positional).astype(np.float32), offsets)


def _sums(tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-pair sums (every pair has at least its </s>, so no range is empty)."""
    return np.add.reduceat(tokens, offsets[:-1])


def save(path: str, lists: Dict[str, ListScores], meta: Dict, seconds: float):
    """Write ``lists`` (name -> scores) and ``meta`` to ``path`` atomically, and the
    scoring pass's wall ``seconds`` beside it (``PATH.seconds``): a time is no content, and
    the same scores must make the same file, which later steps are keyed on."""
    arrays = {"meta": np.frombuffer(json.dumps({**meta, "lists": list(lists)}).encode(),
                                    dtype=np.uint8)}
    for name, ls in lists.items():
        arrays[f"{name}.sent_ids"] = np.asarray([s for s, _ in ls.pairs], dtype=np.int64)
        arrays[f"{name}.hyps"] = np.frombuffer("\n".join(h for _, h in ls.pairs).encode(),
                                               dtype=np.uint8)
        arrays[f"{name}.tokens"] = ls.tokens.astype(np.float32)
        arrays[f"{name}.offsets"] = ls.offsets.astype(np.int64)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    with atomic_path(path + ".seconds") as tmp:
        with open(tmp, "w") as f:
            f.write(f"{seconds:.1f}\n")


@user_facing
class TokenScoresError(ValueError):
    """A token-score file that does not fit the lists it is asked to score."""


# what to do about a file that cannot be used
_REDO = ("score the model again on these lists (rescore --path MODEL --save-token-scores "
         "FILE; in a Table 2 run, delete the file and rerun scripts/reproduce_table2.sh, "
         "which does)")


def list_digests(sources: Sequence[str], pairs: Sequence[Pair]) -> Dict[str, str]:
    """sha256 of a list's source sentences (as read, one a line) and of its distinct
    ``(sentence id, hypothesis)`` pairs: what its token scores were computed for."""
    src = hashlib.sha256("\n".join(sources).encode("utf-8")).hexdigest()
    nbest = hashlib.sha256("\n".join(f"{i}\t{h}" for i, h in pairs).encode("utf-8")).hexdigest()
    return {"source": src, "nbest": nbest}


def load(path: str) -> Tuple[Dict, Dict[str, ListScores]]:
    """``(meta, {list name: ListScores})`` of a file written by :func:`save`."""
    if not os.path.exists(path):
        raise TokenScoresError(f"token scores not found: {path}: {_REDO}")
    try:
        with np.load(path) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            lists = {}
            for name in meta["lists"]:
                ids = z[f"{name}.sent_ids"]
                text = bytes(z[f"{name}.hyps"]).decode()
                hyps = text.split("\n") if len(ids) else []
                if len(hyps) != len(ids):
                    raise TokenScoresError(f"{len(hyps)} hypotheses for {len(ids)} ids")
                ls = ListScores(list(zip(ids.tolist(), hyps)), z[f"{name}.tokens"],
                                z[f"{name}.offsets"])
                if len(ls.offsets) != len(ids) + 1 or ls.offsets[-1] != len(ls.tokens):
                    raise TokenScoresError("offsets do not match the token scores")
                lists[name] = ls
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        why = str(e)
        if isinstance(e, (zipfile.BadZipFile, EOFError, zlib.error)):
            why = f"truncated or damaged: {os.path.getsize(path)} bytes, {type(e).__name__}: {e}"
        raise TokenScoresError(f"{path}: not a token-score file of "
                               f"sutskever_plugin.rescoring.token_scores ({why}): {_REDO}") from None
    try:
        with open(path + ".seconds") as f:
            meta["seconds"] = float(f.read())
    except (OSError, ValueError):
        meta["seconds"] = 0.0   # its time not recorded: the row's time leaves it out
    return meta, lists


def check_inputs(path: str, meta: Dict, name: str, digests: Dict[str, str]):
    """Refuse a file's list ``name`` unless it was computed for the source whose
    :func:`list_digests` are ``digests`` (its hypotheses :func:`ensemble_scores` compares
    as they are)."""
    recorded = (meta.get("inputs") or {}).get(name)
    if not recorded:
        raise TokenScoresError(
            f"{path}: records no digest of the source and n-best list its '{name}' scores were "
            f"computed for (written before they were recorded), so it cannot be checked "
            f"against these: {_REDO}")
    if recorded.get("source") != digests["source"]:
        raise TokenScoresError(
            f"{path}: its '{name}' scores were computed for another source "
            f"({recorded.get('source_file', '?')}; sha256 of its sentences "
            f"{str(recorded.get('source'))[:12]}, of these {digests['source'][:12]}), so they "
            f"would score these hypotheses as translations of other sentences: {_REDO}")


def ensemble_scores(files: Sequence[Tuple[str, Dict, Dict[str, ListScores]]], name: str,
                    pairs: Sequence[Pair], sources: Sequence[str]) -> Tuple[np.ndarray, List[Dict]]:
    """(log p(hypothesis | source) of every pair under the ensemble of the files' models:
    per token log(mean_m exp(lp_m)), as fairseq; the files' headers). ``files``: ``(path,
    meta, lists)`` as :func:`load` read them; each must hold list ``name`` with exactly
    ``pairs``, computed for ``sources``, all of one task direction."""
    paths = [f[0] for f in files]
    metas, members = [], []
    for p, meta, lists in files:
        if name not in lists:
            raise TokenScoresError(f"{p}: holds the lists {sorted(lists)}, not '{name}'")
        ls = lists[name]
        if ls.pairs != list(pairs):
            first = next((i for i, (a, b) in enumerate(zip(ls.pairs, pairs)) if a != b),
                         min(len(ls.pairs), len(pairs)))
            raise TokenScoresError(
                f"{p}: its '{name}' list is not this n-best list ({len(ls.pairs)} distinct "
                f"hypotheses against {len(pairs)}; first difference at pair {first}): "
                f"score the model again on this list")
        check_inputs(p, meta, name, list_digests(sources, pairs))
        if metas and meta.get("reversed_source") != metas[0].get("reversed_source"):
            raise TokenScoresError(
                f"{p}: scored with reversed_source={meta.get('reversed_source')}, but "
                f"{paths[0]} with {metas[0].get('reversed_source')}: an ensemble is of one task")
        metas.append(meta)
        members.append(ls)
    if len(members) == 1:
        return _sums(members[0].tokens.astype(np.float64), members[0].offsets), metas
    for p, ls in zip(paths[1:], members[1:]):
        if not np.array_equal(ls.offsets, members[0].offsets):
            raise TokenScoresError(f"{p}: token counts differ from {paths[0]}'s: the "
                                   f"models do not share a target dictionary")
    lp = np.stack([ls.tokens.astype(np.float64) for ls in members])  # [models, tokens]
    mixed = np.logaddexp.reduce(lp, axis=0) - np.log(len(members))
    return _sums(mixed, members[0].offsets), metas
