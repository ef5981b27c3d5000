"""Figure 2: PCA of the sentence vectors of phrase groups, plus cluster measures.

A phrase's vector is the encoder's final (h, c) of every layer; the phrase goes through
the task as fairseq-generate's inputs do: the source dictionary (+ EOS), then
``task.build_dataset_for_inference`` (which, for ``translation_reversed``, reverses the
words with the function training used) and its collater, then ``model.encode``.
"""
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from ..rescoring.lstm_scorer import encode
from ..tables import write_csv
from .phrases import CAPTION_PANELS, PAPER_PANELS, Panel


def pca(x: np.ndarray, k: int = 2):
    """(n x k projections of the rows of ``x`` on their first ``k`` principal components,
    each component's share of the total variance, the k x d components).

    Signs are fixed (the largest-magnitude loading of each component is positive) so
    that reruns give the same picture.
    """
    x = np.asarray(x, dtype=np.float64)
    centered = x - x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(centered, full_matrices=False)
    vt = vt[:k]
    signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
    signs[signs == 0] = 1
    vt = vt * signs[:, None]
    total = float((s ** 2).sum())
    explained = (s[:k] ** 2) / total if total > 0 else np.zeros(len(vt))
    return centered @ vt.T, explained, vt


def cluster_stats(x: np.ndarray, meanings: Sequence[str], phrases: Sequence[str]) -> dict:
    """How well Euclidean distances between the full sentence vectors follow meaning:
    ``nn_same`` phrases whose nearest neighbour has their meaning, mean distance
    ``within`` meanings and ``between`` them, their ``ratio``, and ``bow_twins``
    cross-meaning pairs with identical bags of words."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    sq = (x ** 2).sum(axis=1)
    d = np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0, None))
    same = np.array([[a == b for b in meanings] for a in meanings])
    off = ~np.eye(n, dtype=bool)
    nn = np.where(off, d, np.inf).argmin(axis=1)
    nn_same = int(sum(meanings[i] == meanings[j] for i, j in enumerate(nn)))
    within = d[same & off]
    between = d[~same]
    bags: List[tuple] = [tuple(sorted(p.split())) for p in phrases]
    twins = sum(1 for i in range(n) for j in range(i + 1, n)
                if meanings[i] != meanings[j] and bags[i] == bags[j])
    within = float(within.mean()) if within.size else float("nan")
    between = float(between.mean()) if between.size else float("nan")
    return {"n": n, "nn_same": nn_same, "within": within, "between": between,
            "ratio": within / between if between > 0 else float("nan"), "bow_twins": twins}


@torch.no_grad()
def sentence_vectors(model, task, phrases: Sequence[str]) -> np.ndarray:
    """n_phrases x (2 * layers * hidden): ``model.encode`` of each (tokenized) phrase, in
    one batch (a panel has a few phrases)."""
    model.eval()
    encoded = [encode(task.source_dictionary, p)[0] for p in phrases]
    dataset = task.build_dataset_for_inference(encoded, [t.numel() for t in encoded])
    batch = dataset.collater([dataset[i] for i in range(len(encoded))])
    vec = model.encode(batch["net_input"]["src_tokens"], batch["net_input"]["src_lengths"])
    rows = torch.empty_like(vec)
    rows[batch["id"].tolist()] = vec  # the collater sorts by length
    return rows.cpu().numpy().astype(np.float64)


def passive_check(vectors: np.ndarray, phrases: List[str], meanings: List[str]):
    """(passive phrases, those with the word "by", nearer on average the active phrases of
    their own meaning than those with roles swapped; passive phrases). The paper finds the
    vectors "fairly insensitive to the replacement of an active voice with a passive voice"."""
    passive = [i for i, p in enumerate(phrases) if "by" in p.split()]
    active = [i for i in range(len(phrases)) if i not in passive]
    nearer = 0
    for i in passive:
        own = [np.linalg.norm(vectors[i] - vectors[j]) for j in active if meanings[j] == meanings[i]]
        other = [np.linalg.norm(vectors[i] - vectors[j]) for j in active if meanings[j] != meanings[i]]
        if own and other and np.mean(own) < np.mean(other):
            nearer += 1
    return nearer, len(passive)


def analyse_panels(model, task, panels: Dict[str, Panel], src_lang: str = "en",
                   spm_model: Optional[str] = None) -> List[dict]:
    """For each panel: the phrases (Moses-tokenized), their words unknown to the model,
    the sentence vectors, their 2-D PCA and the cluster measures."""
    from ..data import moses, spm

    out = []
    for title, entries in panels.items():
        tok = [moses.tokenize_line(p, src_lang) for p, _ in entries]
        inputs = spm.encode_lines(tok, spm_model) if spm_model else tok
        meanings = [m for _, m in entries]
        unknown = [encode(task.source_dictionary, p)[1] for p in inputs]
        vecs = sentence_vectors(model, task, inputs)
        coords, explained, _ = pca(vecs, 2)
        nearer, n_passive = passive_check(vecs, tok, meanings)
        out.append({
            "title": title, "phrases": tok, "meanings": meanings, "unknown": unknown,
            "vectors": vecs, "coords": coords, "explained": explained.tolist(),
            "dim": int(vecs.shape[1]), **cluster_stats(vecs, meanings, tok),
            "passive_closer": nearer, "passive": n_passive,
        })
    return out


def _label(phrase: str, unknown: List[str]) -> str:
    return " ".join(f"{w}(<unk>)" if w in unknown else w for w in phrase.split())


def _csv_rows(panels):
    return [{"panel": p["title"], "phrase": ph, "meaning": m,
             "pc1": round(float(c[0]), 6), "pc2": round(float(c[1]), 6),
             "unknown_words": " ".join(u)}
            for p in panels
            for ph, m, c, u in zip(p["phrases"], p["meanings"], p["coords"], p["unknown"])]


def _public(p):
    return {k: v for k, v in p.items() if k not in ("coords", "vectors")}


def figure2(work: str, summary: dict, data_dir: str, out: str, report: dict):
    """figure2.{png,csv} (caption panels) and figure2_paper.{png,csv} (the paper's
    phrases, each panel only when the vocabulary knows all its words)."""
    from ..data import spm
    from ..rescoring.lstm_scorer import load_models
    from .plots import pca_figure

    ckpt = os.path.join(work, "models", "reversed1.pt")
    fig = {"checkpoint": ckpt, "panels": [], "paper_panels": [], "paper_skipped": []}
    report["figure2"] = fig
    if not os.path.exists(ckpt):
        fig["pending"] = f"{ckpt} not found (run scripts/reproduce_table1.sh)"
        print(f"[analysis] figure 2: pending, {fig['pending']}", flush=True)
        return
    models, task = load_models([ckpt], os.path.abspath(os.path.join(data_dir, "bin")))
    model = models[0].cpu()
    fig["source_reversed"] = bool(getattr(task, "reverses_source", False))
    fig["task"] = "translation_reversed" if fig["source_reversed"] else "translation"
    fig["layers"] = model.encoder.num_layers
    fig["hidden"] = model.encoder.hidden_size
    src = summary["src"]
    spm_model = spm.models_of(summary, data_dir)[src] if summary.get("bpe") else None

    panels = analyse_panels(model, task, CAPTION_PANELS, src, spm_model)
    title = (f"Figure 2 analogue: PCA of the final (h, c) of every layer "
             f"({fig['layers']} layers x {fig['hidden']} cells x 2 = {panels[0]['dim']} numbers), "
             f"{os.path.basename(ckpt)} ({'reversed' if fig['source_reversed'] else 'forward'} source)")
    pca_figure([dict(p, phrases=[_label(ph, u) for ph, u in zip(p["phrases"], p["unknown"])])
                for p in panels], os.path.join(out, "figure2.png"), title)
    write_csv(os.path.join(out, "figure2.csv"), _csv_rows(panels))
    fig["panels"] = [_public(p) for p in panels]
    fig["unknown_in_caption_panels"] = sorted({w for p in panels for u in p["unknown"] for w in u})

    # the paper's phrases: only panels whose every word the model knows
    paper = []
    for title_p, entries in PAPER_PANELS.items():
        probe = analyse_panels(model, task, {title_p: entries}, src, spm_model)[0]
        unk = sorted({w for u in probe["unknown"] for w in u})
        if unk:
            fig["paper_skipped"].append({"title": title_p, "unknown": unk})
        else:
            paper.append(probe)
    if paper:
        pca_figure(paper, os.path.join(out, "figure2_paper.png"),
                   f"The paper's Figure 2 phrases, {os.path.basename(ckpt)}")
        write_csv(os.path.join(out, "figure2_paper.csv"), _csv_rows(paper))
    else:  # no stale figure from an earlier model
        for name in ("figure2_paper.png", "figure2_paper.csv"):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    fig["paper_panels"] = [_public(p) for p in paper]

    for p in panels + paper:
        print(f"[analysis] figure 2 '{p['title']}': nearest neighbour of the same meaning "
              f"{p['nn_same']}/{p['n']}, within/between distance {p['ratio']:.2f}, "
              f"PC1+PC2 {100 * sum(p['explained']):.0f}% of variance", flush=True)
    for s in fig["paper_skipped"]:
        print(f"[analysis] figure 2 '{s['title']}': skipped, not in the source vocabulary: "
              f"{' '.join(s['unknown'])}", flush=True)
    if fig["unknown_in_caption_panels"]:
        print(f"[analysis] figure 2: <unk> in the caption phrases: "
              f"{' '.join(fig['unknown_in_caption_panels'])}", flush=True)
