"""Table 3: the longest test sentences with our translation and the reference."""
from typing import List, Sequence

from ..data.moses import detokenize
from ..scoring.bleu import sentence_bleu_tok
from ..machine import commit
from ..tables import table_head, table_row


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table3_rows(k: int, src_tok: Sequence[str], hyp_tok: Sequence[str], ref_tok: Sequence[str],
                src_show: Sequence[str], ref_show: Sequence[str], tgt_lang: str) -> List[dict]:
    """The ``k`` longest source sentences (Moses tokens; ties in test-set order), longest
    first, with the translation (detokenized) and the reference as shown."""
    idx = sorted(range(len(src_tok)), key=lambda i: (-len(src_tok[i].split()), i))[:k]
    ours = detokenize([hyp_tok[i] for i in idx], tgt_lang)
    return [{"line": i + 1, "source_tokens": len(src_tok[i].split()), "source": src_show[i],
             "ours": hyp, "truth": ref_show[i],
             "sentence_bleu": round(sentence_bleu_tok(hyp_tok[i], ref_tok[i]), 1)}
            for i, hyp in zip(idx, ours)]


def table3_markdown(rows: Sequence[dict], system: str, note: str) -> str:
    lines = [
        "# Table 3: long translations",
        "",
        f"The {len(rows)} longest source sentences of the test set (by Moses tokens) with "
        f"the translation of **{system}** and the reference, as in the paper's Table 3. "
        "Sentence BLEU is smoothed sacreBLEU on tokenized text, a rough guide only.",
        "",
        f"Code: commit {commit()}.",
        "",
        note,
        "",
    ]
    lines += table_head("Type", "Sentence")
    for r in rows:
        lines.append(table_row(f"Source (line {r['line']}, {r['source_tokens']} tokens)", _cell(r["source"])))
        lines.append(table_row(f"Our model (sentence BLEU {r['sentence_bleu']:.1f})", _cell(r["ours"])))
        lines.append(table_row("Truth", _cell(r["truth"])))
        lines.append("| | |")  # an empty row between sentences
    if rows:
        lines.pop()
    return "\n".join(lines) + "\n"
