"""PNG figures (matplotlib, Agg backend: no display needed)."""
import logging
from typing import Dict, Optional, Sequence

import numpy as np

from ..data.textio import atomic_path

# importing fairseq leaves the root logger at DEBUG: without this, importing matplotlib and
# every figure would print its setup and font search (hundreds of lines) into the output
logging.getLogger("matplotlib").setLevel(logging.WARNING)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402


MARKERS = ["o", "s", "^", "D", "v", "P"]
COLORS = ["tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown"]


def _style(k: int) -> dict:
    return {"marker": MARKERS[k % len(MARKERS)], "color": COLORS[k % len(COLORS)]}


def _finish(ax, xlabel: str, ylabel: str, title: str, **legend):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, **legend)


def _save(fig, path: str, suptitle: str = ""):
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def _label_offsets(coords, near: float = 0.06, step: float = 9.0):
    """Vertical label offsets (points) so that labels of (nearly) coinciding points do
    not print over each other: the k-th point close to an earlier one moves down k steps."""
    span = np.ptp(coords, axis=0)
    span[span == 0] = 1.0
    scaled = coords / span
    offsets = []
    for i in range(len(coords)):
        k = sum(1 for j in range(i) if np.all(np.abs(scaled[i] - scaled[j]) < near))
        offsets.append(-step * k)
    return offsets


def pca_figure(panels: Sequence[dict], path: str, suptitle: str = ""):
    """One scatter per panel; each dict has title, coords (n x 2), phrases, meanings,
    explained (2 shares of variance).  Points are coloured by meaning and labelled."""
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(6.2 * n, 5.2), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        coords = panel["coords"]
        meanings = list(dict.fromkeys(panel["meanings"]))
        for k, meaning in enumerate(meanings):
            idx = [i for i, m in enumerate(panel["meanings"]) if m == meaning]
            ax.scatter(coords[idx, 0], coords[idx, 1], s=40, label=meaning, zorder=3, **_style(k))
        for (x, y), text, dy in zip(coords, panel["phrases"], _label_offsets(coords)):
            ax.annotate(text, (x, y), fontsize=7, xytext=(4, 3 + dy), textcoords="offset points",
                        arrowprops=dict(arrowstyle="-", lw=0.4, color="0.5") if dy else None)
        ev = panel["explained"]
        _finish(ax, f"PC1 ({100 * ev[0]:.0f}% of variance)", f"PC2 ({100 * ev[1]:.0f}% of variance)",
                panel["title"], loc="best")
        ax.grid(alpha=0.3)
        # room for the labels on the right
        x0, x1 = ax.get_xlim()
        ax.set_xlim(x0, x1 + 0.35 * (x1 - x0))
    _save(fig, path, suptitle)


def bucket_figure(views: Sequence[dict], systems: Sequence[str], path: str, suptitle: str = ""):
    """Side-by-side BLEU-per-bucket plots; each view has rows, xlabel, title."""
    n = len(views)
    fig, axes = plt.subplots(1, n, figsize=(6.5 * n, 4.6), squeeze=False)
    for ax, view in zip(axes[0], views):
        rows = view["rows"]
        xs = list(range(len(rows)))
        for k, name in enumerate(systems):
            pts = [(x, r[name]) for x, r in zip(xs, rows) if r.get(name) is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], label=name, **_style(k))
        ax.set_xticks(xs)
        many = len(rows) > 6
        ax.set_xticklabels([f"{r['bucket']}\n(n={r['sentences']})" for r in rows], fontsize=7,
                           rotation=35 if many else 0, ha="right" if many else "center")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        _finish(ax, view["xlabel"], "BLEU (cased, tokenized)", view["title"])
    _save(fig, path, suptitle)


def curves_figure(curves: Dict[str, Sequence], path: str, xlabel: str, ylabel: str, title: str = "",
                  hline: Optional[tuple] = None, vlines: Sequence[tuple] = ()):
    """Learning curves: ``curves`` maps a label to (x values, y values), one line with
    markers each, on a log scale; ``hline`` (y, label) and ``vlines`` [(x, label)] are
    dashed guides."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for k, (label, (xs, ys)) in enumerate(curves.items()):
        ax.plot(xs, ys, markersize=4, lw=1.4, label=label, **_style(k))
    if hline is not None:
        ax.axhline(hline[0], ls="--", lw=0.9, color="0.4", label=hline[1])
    for k, (x, label) in enumerate(vlines):
        ax.axvline(x, ls=":" if k else "--", lw=0.9, color=COLORS[(k + 2) % len(COLORS)], label=label)
    ax.set_yscale("log")
    # perplexities as plain numbers (20, 50, 100), not powers of ten
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    ax.grid(alpha=0.3, which="both")
    _finish(ax, xlabel, ylabel, title, loc="best")
    _save(fig, path)
