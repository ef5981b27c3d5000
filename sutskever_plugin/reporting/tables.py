"""The one writer of the report tables: CSV through pandas, markdown pipe tables, and
what the tables' headers say about their inputs.

Files go through :func:`sutskever_plugin.data.textio.write_text`: written to a temporary
name and renamed, so a killed run never leaves half a table that a rerun would keep.
"""
import json
import os
from typing import Dict, List, Optional, Sequence, Union

import pandas as pd

from ..data.textio import write_text


def load_json(path: str) -> Optional[dict]:
    """A step's JSON result, or None where the step has not run (its row is pending)."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def describe_data(data_dir: str) -> str:
    """The data line of a table: data set, direction, lines per split (summary.json)."""
    summary = load_json(os.path.join(data_dir, "summary.json")) or {}
    splits = summary.get("splits", {})
    return (f"{summary.get('dataset', '?')} {summary.get('src', '?')}->{summary.get('tgt', '?')}, "
            + ", ".join(f"{k} {v.get('lines')}" for k, v in splits.items()))


def write_csv(path: str, table: Union[pd.DataFrame, List[dict]],
              columns: Optional[Sequence[str]] = None):
    """Write ``table`` as CSV.

    A DataFrame is written as pandas writes it (Tables 1 and 2). A list of row dicts
    (the analysis', the benchmark's) is written under ``columns`` (default: every key, in
    order of first appearance), a value a row lacks or holds as None left empty, every
    value as Python prints it (an integer column with gaps stays integers), with the
    ``\\r\\n`` line ends of Python's csv module that those files have always had, so that
    rerunning on the same numbers rewrites them byte for byte. No rows and no
    ``columns``: nothing is written.
    """
    if isinstance(table, pd.DataFrame):
        text = table.to_csv(index=False)
    else:
        if not table and columns is None:
            return
        columns = list(columns or dict.fromkeys(k for row in table for k in row))
        text = pd.DataFrame(list(table), columns=columns, dtype=object).to_csv(
            index=False, lineterminator="\r\n")
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    write_text(str(path), text)


def table_row(*cells) -> str:
    """One line of a markdown pipe table."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table_head(*columns: str) -> List[str]:
    """A markdown table's header and separator lines."""
    return [table_row(*columns), "|" + "---|" * len(columns)]


def frame_markdown(df: pd.DataFrame, columns: Dict[str, str]) -> str:
    """The ``columns`` of ``df`` (column -> heading) as a markdown table, aligned as
    pandas aligns it, missing values blank."""
    shown = df[list(columns)].copy()
    shown.columns = list(columns.values())
    return shown.astype(object).where(shown.notna(), "").to_markdown(index=False)
