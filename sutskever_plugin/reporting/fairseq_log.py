"""What the reports read from fairseq's own logs: the time of every logged line, where
each fairseq-train process began, and the validation perplexity at every validation.

fairseq's command-line tools log ``YYYY-MM-DD HH:MM:SS | LEVEL | logger | message``
(fairseq_cli/train.py's ``logging.basicConfig``), in the local time of the machine that
ran them; lines without that prefix (warnings, tracebacks, tqdm) carry no time and are
left out by :func:`read_log`. :func:`validations` reads validation lines with or without
the prefix.

The scripts read the logs through this module's command line:

    python -m sutskever_plugin.reporting.fairseq_log --last-valid-ppl LOG   # "ppl 7.7" (or nothing)
    python -m sutskever_plugin.reporting.fairseq_log --last-valid LOG       # "8 validations, last: ppl 7.7, updates 1589"
    python -m sutskever_plugin.reporting.fairseq_log --summary LOG...       # per log: "227 35.21; 454 18.56; ", "done training in ..."
"""
import argparse
import os
import re
import sys
from datetime import datetime, timezone
from typing import List, Tuple

import pandas as pd

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \| (\w+) \| ([^|]+?) \| (.*)$")
_FIELD = re.compile(r"\| (\w+) ([-+0-9.eE]+|inf|nan)(?= \||$)")
# a fairseq-train process logs its config within this many seconds of its first line
# (its imports)
STARTUP_S = 60


def read_log(path) -> pd.DataFrame:
    """One row per timestamped line: ``time`` (UTC, tz-aware), ``level``, ``logger``,
    ``message``, ``line`` (1-based line number in the file)."""
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for i, line in enumerate(f, 1):
            m = _LINE.match(line.rstrip("\n"))
            if m:
                # naive local time -> the UTC instant it names (astimezone reads a naive
                # datetime as local time)
                t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").astimezone(timezone.utc)
                rows.append((t, m.group(2), m.group(3).strip(), m.group(4), i))
    df = pd.DataFrame(rows, columns=["time", "level", "logger", "message", "line"])
    df["time"] = pd.to_datetime(df["time"], utc=True)
    return df


def train_runs(log: pd.DataFrame) -> pd.DataFrame:
    """The fairseq-train processes a log holds (a rerun appends to the same log and
    resumes from the last checkpoint), one row each: ``start``, ``end`` (its first and
    last timestamped line), ``wall_s``. A process is known by the config line that
    fairseq_cli.train logs once its imports are done (``{'_name': ...``). The lines a
    process logs while importing, before that, are those the first process logged
    before its config line (learned from the log itself: which depends on the
    environment); a later process takes the lines just before its config line that are
    such lines, logged within STARTUP_S of it, so that the previous process ends with
    its own last line. A log without a config line is one run."""
    if log.empty:
        return pd.DataFrame(columns=["start", "end", "wall_s"])
    log = log.reset_index(drop=True)
    markers = log.index[(log["logger"] == "fairseq_cli.train")
                        & log["message"].str.startswith("{'_name'")].tolist()
    startup = set(zip(log["logger"][:markers[0]], log["message"][:markers[0]])) if markers else set()
    run_id = pd.Series(0, index=log.index)
    for k, m in enumerate(markers[1:], 1):
        j = m
        while (j - 1 > markers[k - 1] and (log.at[j - 1, "logger"], log.at[j - 1, "message"]) in startup
               and (log.at[m, "time"] - log.at[j - 1, "time"]).total_seconds() <= STARTUP_S):
            j -= 1
        run_id.iloc[j:] = k
    runs = log.groupby(run_id)["time"].agg(start="min", end="max").reset_index(drop=True)
    runs["wall_s"] = (runs["end"] - runs["start"]).dt.total_seconds()
    return runs


def _validation(message: str, subset: str):
    """(num_updates, ppl, loss) of a validation line on ``subset``, else None."""
    if f"valid on '{subset}' subset" not in message:
        return None
    fields = dict(_FIELD.findall(" " + message))
    if "ppl" not in fields or "num_updates" not in fields:
        return None
    return int(float(fields["num_updates"])), float(fields["ppl"]), float(fields.get("loss", "nan"))


def valid_curve(log: pd.DataFrame, subset: str = "valid") -> pd.DataFrame:
    """Every validation on ``subset`` in the log: ``time``, ``num_updates``, ``ppl``,
    ``loss`` (fairseq's base-2 loss), and ``line``."""
    rows = [(t, *v, i) for t, m, i in zip(log["time"], log["message"], log["line"])
            if (v := _validation(m, subset))]
    return pd.DataFrame(rows, columns=["time", "num_updates", "ppl", "loss", "line"])


def validations(path, subset: str = "valid") -> List[Tuple[int, float]]:
    """(num_updates, ppl) of every validation on ``subset`` in the log at ``path``, in
    order, timestamped or not (a missing log has none)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        return [v[:2] for line in f if (v := _validation(line.rstrip("\n"), subset))]


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.reporting.fairseq_log",
                                description="What fairseq-train logs say about validation.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--last-valid-ppl", action="store_true", help='"ppl P" of the last validation')
    what.add_argument("--last-valid", action="store_true",
                      help='"N validations, last: ppl P, updates U"')
    what.add_argument("--summary", action="store_true",
                      help='per log (train_NAME.log): a "## NAME" heading, "U P; " for every '
                           'validation, then its "done training in" lines')
    p.add_argument("logs", nargs="+", metavar="LOG")
    a = p.parse_args(argv)
    for log in a.logs:
        curve = validations(log)
        last = f"ppl {curve[-1][1]:g}" if curve else ""  # as fairseq logs it ("{:g}")
        if a.last_valid_ppl:
            print(last)
        elif a.last_valid:
            print(f"{len(curve)} validations, last: " + (f"{last}, updates {curve[-1][0]}" if curve else ""))
        else:
            name = os.path.basename(log)[:-len(".log")].removeprefix("train_")
            print(f"## {name}: validation perplexity by update")
            print("".join(f"{u} {ppl:g}; " for u, ppl in curve))
            with open(log, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if "done training in" in line:
                        print(re.sub(r".*\| (done training.*)", r"\1", line.rstrip("\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
