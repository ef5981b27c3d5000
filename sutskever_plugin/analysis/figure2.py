"""Figure 2: PCA of the sentence vectors of phrase groups, plus cluster measures."""
import os
from typing import Dict, List, Optional

import numpy as np

from ..tables import write_csv
from .pca import cluster_stats, pca
from .phrases import CAPTION_PANELS, PAPER_PANELS, Panel


def passive_check(vectors: np.ndarray, phrases: List[str], meanings: List[str]):
    """For each passive phrase (one containing the word "by"): is it nearer (mean
    distance) the active phrases of its own meaning than those of the other meaning
    (same words, roles swapped)?  The paper finds the vectors "fairly insensitive to the
    replacement of an active voice with a passive voice".  Returns (nearer, passives)."""
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
    the sentence vectors (``model.encode`` through the task: n x 2*layers*hidden), their
    2-D PCA and the cluster measures."""
    from ..data import moses, spm
    from .sentence_vectors import encode_phrase, sentence_vectors

    out = []
    for title, entries in panels.items():
        tok = [moses.tokenize_line(p, src_lang) for p, _ in entries]
        inputs = spm.encode_lines(tok, spm_model) if spm_model else tok
        meanings = [m for _, m in entries]
        unknown = [encode_phrase(task, p).unknown for p in inputs]
        vecs = sentence_vectors(model, task, inputs)
        res = pca(vecs, 2)
        st = cluster_stats(vecs, meanings, tok)
        nearer, n_passive = passive_check(vecs, tok, meanings)
        out.append({
            "title": title, "phrases": tok, "meanings": meanings, "unknown": unknown,
            "vectors": vecs, "coords": res.coords, "explained": res.explained.tolist(),
            "dim": int(vecs.shape[1]), "n": st.n, "nn_same": st.nn_same_meaning,
            "within": st.within_mean, "between": st.between_mean, "ratio": st.ratio,
            "bow_twins": st.bow_twins, "passive_closer": nearer, "passive": n_passive,
        })
    return out


def _label(phrase: str, unknown: List[str]) -> str:
    if not unknown:
        return phrase
    return " ".join(f"{w}(<unk>)" if w in unknown else w for w in phrase.split())


def _csv_rows(panels):
    return [{"panel": p["title"], "phrase": ph, "meaning": m,
             "pc1": round(float(c[0]), 6), "pc2": round(float(c[1]), 6),
             "unknown_words": " ".join(u)}
            for p in panels
            for ph, m, c, u in zip(p["phrases"], p["meanings"], p["coords"], p["unknown"])]


def _public(p):
    return {k: v for k, v in p.items() if k not in ("coords", "vectors")}


def figure2(args, summary: dict, data_dir: str, out: str, report: dict):
    """figure2.{png,csv} (caption panels) and figure2_paper.{png,csv} (the paper's
    phrases, each panel only when the vocabulary knows all its words)."""
    from ..data import spm
    from .plots import pca_figure
    from .sentence_vectors import load_model

    ckpt = args.model if (os.path.sep in args.model or args.model.endswith(".pt")) \
        else os.path.join(args.work, "models", args.model + ".pt")
    fig = {"checkpoint": ckpt, "panels": [], "paper_panels": [], "paper_skipped": []}
    report["figure2"] = fig
    if not os.path.exists(ckpt):
        fig["pending"] = f"{ckpt} not found (run scripts/reproduce_table1.sh)"
        print(f"[analysis] figure 2: pending, {fig['pending']}", flush=True)
        return
    model, task = load_model(ckpt, os.path.join(data_dir, "bin"))
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
    known = {}
    for title_p, entries in PAPER_PANELS.items():
        probe = analyse_panels(model, task, {title_p: entries}, src, spm_model)[0]
        unk = sorted({w for u in probe["unknown"] for w in u})
        if unk:
            fig["paper_skipped"].append({"title": title_p, "unknown": unk})
        else:
            known[title_p] = probe
    paper = list(known.values())
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
