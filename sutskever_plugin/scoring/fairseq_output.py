"""Everything read from what fairseq's command-line tools print: fairseq-generate's
hypotheses, fairseq-validate's test perplexity, and of fairseq-train's logs the time of
every line, where each process began and every validation (also from the command line:
see ``--help``).  Errors name the file and line.

fairseq's tools log ``YYYY-MM-DD HH:MM:SS | LEVEL | logger | message`` in the local time of
the machine that ran them; other lines (warnings, tracebacks, tqdm) carry no time.
"""
import argparse
import math
import os
import re
import sys
from datetime import datetime, timezone
from typing import List, Optional, Tuple

import pandas as pd

from sutskever_plugin.errors import user_facing

_HYP = re.compile(r"^H-(\d+)\t(\S+)\t?(.*)$")


@user_facing
class FairseqOutputError(ValueError):
    pass


def read_hypotheses(path: str, num_sentences: int) -> List[str]:
    """The 1-best hypothesis of every sentence, in test-set order (fairseq-generate prints
    them in batch order); a missing id is an error, not a shorter test set."""
    best = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = _HYP.match(line.rstrip("\n"))
            if not m:
                continue
            i = int(m.group(1))
            if i >= num_sentences:
                raise FairseqOutputError(
                    f"{path}:{lineno}: hypothesis id {i} but the test set has {num_sentences} sentences")
            best.setdefault(i, m.group(3))  # with --nbest, the first H line is the best
    missing = [i for i in range(num_sentences) if i not in best]
    if missing:
        raise FairseqOutputError(
            f"{path}: no hypothesis for {len(missing)} of {num_sentences} sentences "
            f"(first ids: {missing[:5]})")
    return [best[i] for i in range(num_sentences)]


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
    """The fairseq-train processes a log holds (a rerun appends to it), one row each:
    ``start``, ``end`` (its first and last timestamped line), ``wall_s``. A process is
    known by the config line fairseq_cli.train logs after its imports (``{'_name':
    ...``); a later process also takes the lines just before it, within STARTUP_S, that
    the first process logged while importing. A log without a config line is one run."""
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


def _fields(message: str, subset: str) -> Optional[dict]:
    """The ``| name value`` fields of a line reporting a validation on ``subset``, else None."""
    if f"valid on '{subset}' subset" not in message:
        return None
    return dict(_FIELD.findall(" " + message))


def _validation(message: str, subset: str):
    """(num_updates, ppl, loss) of a fairseq-train validation line on ``subset``, else None."""
    fields = _fields(message, subset)
    if not fields or "ppl" not in fields or "num_updates" not in fields:
        return None
    return int(float(fields["num_updates"])), float(fields["ppl"]), float(fields.get("loss", "nan"))


def read_validate_ppl(path: str, subset: str = "test") -> float:
    """Per-word perplexity from fairseq-validate's log of ``subset`` (its nll_loss is in
    base 2; its rounded ppl field is not used)."""
    found = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = _fields(line.rstrip("\n"), subset)
            if fields and "nll_loss" in fields:
                found = 2 ** float(fields["nll_loss"])
    if found is None or math.isnan(found):
        raise FairseqOutputError(f"{path}: no \"valid on '{subset}' subset | ... | nll_loss\" line from fairseq-validate")
    return found


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
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.scoring.fairseq_output",
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
