"""analysis.md from ``analysis.json``: the comparisons with the paper ("as in the paper" /
"unlike the paper") are decided by fixed rules stated in the text."""
from typing import List, Optional

import numpy as np

from ..tables import table_head, table_row

# Two BLEU scores closer than max(TOLERANCE, REL_TOLERANCE x the whole test set's BLEU)
# count as "no marked difference": the BLEU of a group of ~25-100 captions moves by a few
# points with the sentences drawn.
TOLERANCE = 1.0
REL_TOLERANCE = 0.1
# Below this whole-test-set BLEU a system is too weak for its buckets to mean much.
WEAK_BLEU = 5.0


def _f(x: Optional[float], nd: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{nd}f}"


def _chance(meanings: List[str]) -> float:
    """Expected share of phrases whose nearest neighbour shares their meaning if the
    neighbour were drawn at random among the other phrases."""
    n = len(meanings)
    return float(np.mean([(meanings.count(m) - 1) / (n - 1) for m in meanings]))


def figure2_section(report: dict) -> List[str]:
    fig = report["figure2"]
    out = ["## Figure 2: sentence vectors of phrases that differ in word order and voice", ""]
    if fig.get("pending"):
        return out + [f"Pending: {fig['pending']}.", ""]
    panels = fig["panels"]
    out += [
        "![Figure 2](figure2.png)", "",
        f"Model: `{fig['checkpoint']}` (task `{fig['task']}`: the source is read "
        f"{'reversed, as in training' if fig['source_reversed'] else 'forward'}). Each phrase's vector is "
        f"the encoder's final (h, c) of all {fig['layers']} layers, {panels[0]['dim']} numbers "
        f"(2 x {fig['layers']} x {fig['hidden']}), projected on its panel's first two principal "
        "components (coordinates: `figure2.csv`). The measures below use the full vectors, "
        "not the 2-D projection.", "",
        *table_head("Panel", "Phrases", "Nearest neighbour has the same meaning", "(chance)",
                    "Mean distance within / between meanings", "Passive nearer its own meaning",
                    "Cross-meaning pairs with identical bags of words", "PC1+PC2 share of variance"),
    ]
    for p in panels + fig.get("paper_panels", []):
        out.append(table_row(p["title"], p["n"], f"{p['nn_same']}/{p['n']}",
                             f"{100 * _chance(p['meanings']):.0f}%", _f(p["ratio"], 2),
                             f"{p['passive_closer']}/{p['passive']}", p["bow_twins"],
                             f"{100 * sum(p['explained']):.0f}%"))
    out.append("")
    nn = sum(p["nn_same"] for p in panels)
    n = sum(p["n"] for p in panels)
    chance = np.mean([_chance(p["meanings"]) for p in panels])
    ratio = float(np.mean([p["ratio"] for p in panels]))
    closer = sum(p["passive_closer"] for p in panels)
    passive = sum(p["passive"] for p in panels)
    twins = sum(p["bow_twins"] for p in panels)
    if nn / n >= 0.75 and ratio < 0.9:
        verdict = "so our model reproduces the paper's qualitative finding on these phrases"
    elif nn / n >= chance + 0.15 or ratio < 0.95:
        verdict = ("so it reproduces the finding only in part: meaning shows in the vectors "
                   "but does not dominate them")
    else:
        verdict = "so at our scale the vectors do not cluster by meaning on these phrases"
    out += [
        "The paper finds that the phrases cluster by meaning, which in these examples is "
        "mainly a function of word order (a bag-of-words model cannot separate them: here "
        f"{twins} cross-meaning pairs have identical bags of words), and that the vectors are "
        "fairly insensitive to replacing the active voice with the passive. "
        f"In our caption panels the nearest neighbour of {nn} of {n} phrases has the same "
        f"meaning (chance {100 * chance:.0f}%), same-meaning phrases are on average "
        f"{_f(ratio, 2)} times as far apart as phrases of different meaning (below 1 means "
        f"clustering by meaning), and {closer} of {passive} passive phrases lie nearer the "
        f"active phrases of their own meaning than the role-swapped ones; {verdict} "
        f"(rule: 'reproduces' needs >= 75% same-meaning neighbours and a ratio below 0.9; "
        "'in part' needs 15 points above chance or a ratio below 0.95).",
        "",
    ]
    unk = fig.get("unknown_in_caption_panels") or []
    if unk:
        out += [f"Words of the caption phrases that the model's vocabulary lacks (read as "
                f"<unk>, marked in the figure): {', '.join(unk)}.", ""]
    if fig.get("paper_panels"):
        out += ["The paper's own phrases: ![Figure 2, paper phrases](figure2_paper.png) "
                "(rows 'paper, ...' of the table; coordinates `figure2_paper.csv`).", ""]
    for s in fig.get("paper_skipped", []):
        out += [f"Panel '{s['title']}' of the paper's own phrases is skipped: the model's "
                f"source vocabulary lacks {', '.join(s['unknown'])}.", ""]
    return out


def _trend(rows: List[dict], name: str):
    pts = [(r["mean"], r[name]) for r in rows if r.get(name) is not None]
    if len(pts) < 3:
        return None
    x, y = np.array(pts).T
    if np.std(x) == 0 or np.std(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def _tol(overall: float) -> float:
    return max(TOLERANCE, REL_TOLERANCE * overall)


def _wins(rows, a, b):
    both = [r for r in rows if r.get(a) is not None and r.get(b) is not None]
    return sum(r[a] > r[b] for r in both), len(both)


def figure3_section(report: dict) -> List[str]:
    f3 = report["figure3"]
    out = ["## Figure 3: BLEU by sentence length and by word rarity", ""]
    names = f3["systems"]
    for note in report["system_notes"]:
        out += [f"Note: {note}.", ""]
    if not names:
        return out + ["Pending: no decoded test set to score.", ""]
    lstm = report["lstm_row"] if report["lstm_row"] in names else names[0]
    other = [s for s in names if s != lstm]
    overall = {s: report["systems"][s]["overall_bleu"] for s in names}
    weak = [s for s in names if overall[s] < WEAK_BLEU]
    if weak:
        out += [f"Caution: {', '.join(weak)} score(s) below {WEAK_BLEU:.0f} BLEU on the whole "
                "test set; the per-bucket comparisons below say little about such a system.", ""]
    out += ["![Figure 3](figure3.png)", "",
            "Left: test sentences in buckets of source length (tokens, punctuation included); "
            f"buckets with fewer than {f3['min_bucket']} sentences are merged with the next one "
            "(`figure3_length.png` also shows the paper's view: sentences sorted by length in "
            f"{f3['groups']} equal groups). Right: sentences sorted by the mean frequency rank "
            f"of their words in the training source ({f3['train_source_words']} distinct words; "
            "rank 1 = most frequent; unseen words rank last), in "
            f"{f3['groups']} equal groups (`figure3_rank.png`). Each point is the corpus BLEU of "
            "exactly that subset, with the scorer of the tables (numbers: `figure3_length.csv`, "
            "`figure3_rank.csv`). Whole test set: "
            + ", ".join(f"{s} {overall[s]:.2f}" for s in names) + ".", ""]
    # length
    rows = f3["length"]
    vals = [(r["bucket"], r[lstm], r["sentences"]) for r in rows if r.get(lstm) is not None]
    lo = min(vals, key=lambda v: v[1])
    hi = max(vals, key=lambda v: v[1])
    last = vals[-1]
    drop = overall[lstm] - last[1]
    r_len = _trend(rows, lstm)
    tol = _tol(overall[lstm])
    if drop <= tol:
        verdict = (f"as in the paper, there is no marked degradation on the longest "
                   f"sentences (within {tol:.1f} BLEU of the whole set, or above it)")
    else:
        verdict = (f"unlike the paper's 'minor degradation', BLEU on the longest sentences is "
                   f"{drop:.1f} points below the whole set")
    longest_len = max(r["hi"] for r in rows)
    text = (f"By length, the {lstm} scores from {lo[1]:.1f} (bucket {lo[0]}) to {hi[1]:.1f} "
            f"(bucket {hi[0]}); the longest bucket ({last[0]} tokens, {last[2]} sentences) gets "
            f"{last[1]:.1f} against {overall[lstm]:.1f} overall, so {verdict}; the correlation "
            f"of bucket BLEU with bucket mean length is {_f(r_len, 2)}. The paper saw no "
            "degradation below 35 words and only a minor one on its longest sentences (up to "
            f"79 words); our test set's longest sentence has {int(longest_len)} tokens.")
    for o in other:
        w, t = _wins(rows, lstm, o)
        text += f" The {lstm} is above the {o} in {w} of {t} length buckets."
    out += [text, ""]
    # rank
    rows = f3["rank"]
    vals = [(r["bucket"], r[lstm], r["mean"]) for r in rows if r.get(lstm) is not None]
    first, lastr = vals[0], vals[-1]
    r_rank = _trend(rows, lstm)
    fall = first[1] - lastr[1]
    if fall > tol and (r_rank is None or r_rank < -0.5):
        verdict = "as in the paper, BLEU falls as the words get rarer"
    elif fall < -tol and (r_rank is None or r_rank > 0.5):
        verdict = "unlike the paper, BLEU rises on the sentences with rarer words"
    else:
        verdict = "unlike the paper, BLEU does not clearly fall as the words get rarer"
    text = (f"By word rarity, the {lstm} gets {first[1]:.1f} on the group with the most "
            f"frequent words (mean rank {first[2]:.0f}) and {lastr[1]:.1f} on the group with the "
            f"rarest (mean rank {lastr[2]:.0f}): {verdict} (rule: a fall of more than "
            f"{tol:.1f} BLEU with a correlation of group BLEU with group mean rank below -0.5; "
            f"measured: {_f(r_rank, 2)}). The paper reports that the LSTM's performance "
            "degrades on sentences with rarer words.")
    for o in other:
        w, t = _wins(rows, lstm, o)
        text += (f" The {lstm} is above the {o} in {w} of {t} rarity groups "
                 f"(rarest group: {lastr[1]:.1f} vs {_f(rows[-1].get(o))}).")
    out += [text, ""]
    return out


def table3_section(report: dict) -> List[str]:
    t3 = report["table3"]
    out = ["## Table 3: long translations", ""]
    if t3.get("pending"):
        return out + [f"Pending: {t3['pending']}.", ""]
    rows = t3["rows"]
    lens = [r["source_tokens"] for r in rows]
    overall = report["systems"][t3["system"]]["overall_bleu"]
    diff = t3["bleu_of_these"] - overall
    how = ("about as well as" if abs(diff) <= _tol(overall) else
           "better than" if diff > 0 else "worse than")
    out += [f"[table3.md](table3.md) lists the {len(rows)} longest test sentences "
            f"({min(lens)}-{max(lens)} source tokens) with the translation of the "
            f"{t3['system']} and the reference. Their corpus BLEU is "
            f"{t3['bleu_of_these']:.1f} against {overall:.1f} on the whole test set, so the "
            f"model translates its longest inputs {how} the rest (sentence BLEU "
            f"{min(r['sentence_bleu'] for r in rows):.0f} to {max(r['sentence_bleu'] for r in rows):.0f}). "
            "The paper shows three 35-50 word news sentences translated sensibly; our longest "
            "captions are shorter, so this tests a milder version of the claim.", ""]
    return out


def analysis_markdown(report: dict) -> str:
    head = [
        "# Model analysis (the paper's section 3.7-3.8)", "",
        f"Scale: **{report.get('scale') or '?'}** ({report.get('dataset')}, {report['src']} -> {report['tgt']}, "
        f"{report['test_sentences']} test sentences); work directory `{report['work']}`. "
        "Written by `scripts/analyze.sh` (`python -m sutskever_plugin.analysis`) from the "
        "numbers in `analysis.json`: rerunning it rewrites this file. Code: commit "
        f"{report['commit']}.", "",
    ]
    return "\n".join(head + figure2_section(report) + figure3_section(report)
                     + table3_section(report))
