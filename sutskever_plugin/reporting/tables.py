"""The analysis tables as CSV, written to a temporary name and renamed."""
import csv
import io
from typing import List

from ..data.textio import write_text


def write_csv(path: str, rows: List[dict]):
    if not rows:
        return
    cols = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=cols)
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    write_text(path, buf.getvalue())
