"""Where the main job's own time goes: scripts/reproduce_table1.sh's wall-clock time divided
into data preparation, each training, test perplexity, each decode and the table.

    python -m sutskever_plugin.reporting.job_time --work work/small --out results

writes ``OUT/job_time_SCALE.{csv,md}`` from ``WORK/logs/steps.tsv`` (a line per step of
``scripts/lib.sh``'s ``step``, appended by every run), the fairseq-train logs
``WORK/logs/train_NAME.log`` (when each training ran: a resumed training appends a second
process) and ``train_wall_s`` of ``WORK/models/NAME.json``. Every second from the first
step's start to the last one's end goes to the phase running then (split evenly if two
ran at once), to "between steps" when none did, or to "idle" in gaps over IDLE_GAP_S
(the script was not running): the job's time is the total less idle.
"""
import argparse
import glob
import os
import sys

import pandas as pd

from sutskever_plugin.data.textio import write_text
from sutskever_plugin.scoring.fairseq_output import read_log, train_runs
from sutskever_plugin.tables import load_json, table_head, table_row, write_csv

STATUSES = ("done", "skipped", "failed")
STEP_COLUMNS = ["start", "end", "wall_s", "status", "name"]
# no step and no training for this long: the script was not running (stopped, rerun later)
IDLE_GAP_S = 600
PHASES = ["data preparation", "training", "test perplexity", "decoding", "table", "other"]
# every second of the wall clock goes to one of these
ATTRIBUTED = PHASES + ["between steps", "idle"]
CSV_COLUMNS = ["level", "phase", "name", "status", "start_utc", "end_utc", "wall_s",
               "attributed_wall_s", "share_of_total", "at_once", "recorded_wall_s", "source",
               "scale", "hardware", "commit"]


def phase_of(step_name: str) -> str:
    """The phase of one of reproduce_table1.sh's steps, by the name it gives the step."""
    if step_name == "prepare data":
        return "data preparation"
    for prefix, phase in (("train ", "training"), ("test perplexity", "test perplexity"),
                          ("decode ", "decoding")):
        if step_name.startswith(prefix):
            return phase
    return "table" if "table" in step_name else "other"


def read_steps(path) -> pd.DataFrame:
    """steps.tsv as rows (start, end; wall_s; status; name; line). A first line that
    is not a step (a header) is skipped; any other malformed line is an error naming it."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            try:
                if len(fields) != len(STEP_COLUMNS):
                    raise ValueError(f"{len(fields)} tab-separated fields, expected {len(STEP_COLUMNS)} "
                                     "(UTC start, UTC end, wall seconds, status, step name)")
                start, end = (pd.Timestamp(x) for x in fields[:2])
                wall = float(fields[2])
                if fields[3] not in STATUSES:
                    raise ValueError(f"status {fields[3]!r} is not one of {', '.join(STATUSES)}")
            except ValueError as e:
                if i == 1 and not rows:
                    continue  # a header line
                raise ValueError(f"{path}:{i}: not a step line ({e}): {line!r}") from None
            rows.append((start, end, wall, fields[3], fields[4], i))
    return pd.DataFrame(rows, columns=STEP_COLUMNS + ["line"])


def _names(work, pattern, strip_prefix=""):
    paths = sorted(glob.glob(os.path.join(work, pattern)))
    return [os.path.basename(p).split(".")[0][len(strip_prefix):] for p in paths]


def training_items(work) -> list:
    """One item per fairseq-train process of every model (its log's runs), with the
    model's own train_wall_s; a model without a log is one item without times."""
    names = sorted(set(_names(work, "models/*.json")) | set(_names(work, "logs/train_*.log", "train_")))
    items = []
    for name in names:
        rec = (load_json(os.path.join(work, "models", f"{name}.json")) or {}).get("train_wall_s")
        log = os.path.join(work, "logs", f"train_{name}.log")
        runs = train_runs(read_log(log)) if os.path.exists(log) else pd.DataFrame()
        if runs.empty:
            items.append(dict(phase="training", name=f"train {name}", status="done" if rec is not None else "",
                              start=pd.NaT, end=pd.NaT, wall_s=rec, recorded_wall_s=rec,
                              source=f"models/{name}.json (no timestamped log)"))
            continue
        for k, r in runs.iterrows():
            last = k == len(runs) - 1
            items.append(dict(phase="training",
                              name=f"train {name}" + (f" (process {k + 1} of {len(runs)})" if len(runs) > 1 else ""),
                              status="done" if last and rec is not None else ("stopped" if not last else "unfinished"),
                              start=r["start"], end=r["end"], wall_s=r["wall_s"],
                              recorded_wall_s=rec if last else None,
                              source=f"logs/train_{name}.log first/last line"))
    return items


def sweep(items: pd.DataFrame):
    """Attribute every second of [first start, last end] to the phases running then.
    Returns (attributed seconds per phase incl. 'between steps' and 'idle', trainings
    running at once averaged over each item's time (NaN for items without times))."""
    timed = items.dropna(subset=["start", "end"])
    attributed = {p: 0.0 for p in ATTRIBUTED}
    at_once = pd.Series(float("nan"), index=items.index)
    if timed.empty:
        return attributed, at_once
    cuts = sorted(set(timed["start"]) | set(timed["end"]))
    weighted = {i: 0.0 for i in timed.index}
    for a, b in zip(cuts, cuts[1:]):
        seg = (b - a).total_seconds()
        active = timed[(timed["start"] <= a) & (timed["end"] >= b)]
        if active.empty:
            attributed["idle" if seg > IDLE_GAP_S else "between steps"] += seg
            continue
        phases = sorted(set(active["phase"]))
        for p in phases:
            attributed[p] += seg / len(phases)
        trainings = active[active["phase"] == "training"]
        for i in trainings.index:
            weighted[i] += seg * len(trainings)
    for i in timed[timed["phase"] == "training"].index:
        span = (timed.at[i, "end"] - timed.at[i, "start"]).total_seconds()
        at_once[i] = weighted[i] / span if span > 0 else 1.0
    return attributed, at_once


def job_time(work):
    """(rows for the CSV, the report's facts): per item, per phase and the total."""
    steps_path = os.path.join(work, "logs", "steps.tsv")
    if not os.path.exists(steps_path):
        raise ValueError(f"{steps_path}: no such file (the steps of bash scripts/reproduce_table1.sh)")
    trainings = training_items(work)
    logged = {t["name"].split(" (")[0] for t in trainings if pd.notna(t["start"])}
    items = []
    for _, s in read_steps(steps_path).iterrows():
        phase = phase_of(s["name"])
        if phase == "training" and s["name"] in logged:
            continue  # its fairseq-train processes, from its log, stand for it
        items.append(dict(phase=phase, name=s["name"], status=s["status"], start=s["start"],
                          end=s["end"], wall_s=s["wall_s"], recorded_wall_s=None,
                          source=f"logs/steps.tsv:{s['line']}"))
    df = pd.DataFrame(items + trainings, columns=["phase", "name", "status", "start", "end", "wall_s",
                                      "recorded_wall_s", "source"])
    for col in ("start", "end"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["wall_s"] = pd.to_numeric(df["wall_s"], errors="coerce")
    df = df.sort_values("start", kind="stable", na_position="last").reset_index(drop=True)
    attributed, df["at_once"] = sweep(df)
    timed = df.dropna(subset=["start", "end"])
    first, last = (timed["start"].min(), timed["end"].max()) if not timed.empty else (pd.NaT, pd.NaT)
    total = (last - first).total_seconds() if not timed.empty else None
    return dict(first=first, last=last, total=total, attributed=attributed, df=df)


def _phases(facts):
    """(phase, its items) of every phase with items or attributed seconds, in order."""
    for phase in ATTRIBUTED:
        mine = facts["df"][facts["df"]["phase"] == phase]
        if not mine.empty or facts["attributed"][phase]:
            yield phase, mine


def _round(x, nd):
    return None if x is None or pd.isna(x) else round(float(x), nd)


def _utc(t):
    return "" if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M:%S")


def _s(x, nd=0):
    return "" if x is None or pd.isna(x) else f"{x:,.{nd}f}"


def _share(x, total):
    return "" if not total or x is None or pd.isna(x) else f"{x / total:.1%}"


def csv_rows(facts, scale, hardware, commit):
    df, total, attributed = facts["df"], facts["total"], facts["attributed"]
    base = dict(scale=scale, hardware=hardware, commit=commit)
    rows = [dict(level="step", phase=r["phase"], name=r["name"], status=r["status"],
                 start_utc=_utc(r["start"]), end_utc=_utc(r["end"]), wall_s=_round(r["wall_s"], 1),
                 at_once=_round(r["at_once"], 2),
                 recorded_wall_s=r["recorded_wall_s"] if pd.notna(r["recorded_wall_s"]) else None,
                 source=r["source"], **base) for _, r in df.iterrows()]
    for phase, mine in _phases(facts):
        rows.append(dict(level="phase", phase=phase, name=f"{len(mine)} steps" if len(mine) else "",
                         wall_s=round(float(mine["wall_s"].sum()), 1) if len(mine) else None,
                         attributed_wall_s=round(attributed[phase], 1),
                         share_of_total=round(attributed[phase] / total, 4) if total else None,
                         source="sum of its steps' walls; attributed: its share of the wall clock",
                         **base))
    source = "logs/steps.tsv and the training logs"
    rows.append(dict(level="total", phase="total", name="first step's start to last step's end",
                     start_utc=_utc(facts["first"]), end_utc=_utc(facts["last"]),
                     wall_s=_round(total, 1),
                     attributed_wall_s=round(sum(attributed.values()), 1) if total is not None else None,
                     share_of_total=1.0 if total else None, source=source, **base))
    running = running_s(facts)
    rows.append(dict(level="total", phase="running", name="the total less idle: the job's time",
                     wall_s=_round(running, 1),
                     share_of_total=round(running / total, 4) if total else None,
                     source=source, **base))
    return rows


def running_s(facts):
    """The job's time: the wall clock less the idle gaps (script not running)."""
    return None if facts["total"] is None else facts["total"] - facts["attributed"]["idle"]


def markdown(facts, scale, hardware, commit, work, command):
    df, total, attributed = facts["df"], facts["total"], facts["attributed"]
    lines = [f"# Where the main job's time goes ({scale} scale)", "",
             f"Generated by `{command}` from the work directory `{work}` of "
             "`bash scripts/reproduce_table1.sh`; do not edit by hand.", "",
             f"- Scale: **{scale}**; report written on: {hardware}; commit {commit} (of the "
             "checkout that wrote this report)"]
    if total is not None:
        running, idle = running_s(facts), attributed["idle"]
        lines += [f"- Job time: **{running:,.0f} s** ({running / 60:,.1f} min) with the script "
                  f"running, from {_utc(facts['first'])} to {_utc(facts['last'])} UTC"
                  + (f" ({total:,.0f} s wall, less {idle:,.0f} s idle: gaps over {IDLE_GAP_S} s "
                     "with no step running, the script stopped and started again)" if idle else
                     " (no idle gaps: one uninterrupted run)")]
    trains = df[(df["phase"] == "training") & df["start"].notna()]
    if not trains.empty:
        span = (trains["end"].max() - trains["start"].min()).total_seconds()
        lines += [f"- Trainings: {len(trains)} fairseq-train processes, {trains['wall_s'].sum():,.0f} s "
                  f"summed, {span:,.0f} s from the first one's start to the last one's end, "
                  f"{trains['at_once'].max():.1f} running at once at most (times from the first and "
                  "last timestamped line of each `logs/train_NAME.log`, in this machine's time zone)"]
    if not (df["phase"] == "table").any():
        lines += ["- The table was not recorded as a step of its own: its time is in \"between "
                  "steps\"."]
    lines += ["", "## By phase", "",
              "Attributed: the phase's share of the wall clock (each second to the phase "
              "running then, split evenly if two ran at once; \"between steps\": no step "
              f"running, \"idle\": gaps over {IDLE_GAP_S} s, the script stopped), so the "
              "attributed seconds add up to the total; summed: its steps' walls added up "
              "(trainings that ran side by side count each).", "",
              *table_head("phase", "steps", "attributed s", "share of total", "summed s")]
    for phase, mine in _phases(facts):
        lines.append(table_row(phase, len(mine) or "", _s(attributed[phase]),
                               _share(attributed[phase], total), _s(mine["wall_s"].sum()) if len(mine) else ""))
    lines.append(table_row("**total**", len(df), f"**{_s(sum(attributed.values()))}**",
                           "100.0%", _s(df["wall_s"].sum())))
    lines += ["", "## Every step", "",
              *table_head("phase", "step", "status", "start UTC", "end UTC", "wall s",
                          "share of total", "trainings at once", "the script's own wall s", "from")]
    for _, r in df.iterrows():
        lines.append(table_row(r["phase"], r["name"], r["status"], _utc(r["start"]), _utc(r["end"]),
                               _s(r["wall_s"]), _share(r["wall_s"], total),
                               _s(r["at_once"], 2), _s(r["recorded_wall_s"]), r["source"]))
    lines += ["", "Trainings at once: the number of trainings running, averaged over this "
              "training's time. The script's own wall: `train_wall_s` of `models/NAME.json` "
              "(from the start of the script's training command to the model's copy, this "
              "invocation only) and `wall_s` of `decode/ID.json` (fairseq-generate and scoring).",
              ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m sutskever_plugin.reporting.job_time",
                                description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", required=True, help="reproduce_table1.sh's work directory (e.g. work/small)")
    p.add_argument("--out", required=True, help="directory for job_time_SCALE.{csv,md}")
    p.add_argument("--scale", default=None, help="default: the scale in WORK/data/summary.json")
    a = p.parse_args(argv)
    if not os.path.isdir(a.work):
        p.error(f"--work {a.work}: no such directory")
    scale = a.scale or (load_json(os.path.join(a.work, "data", "summary.json")) or {}).get("scale")
    if not scale:
        p.error(f"--scale not given and {os.path.join(a.work, 'data', 'summary.json')} names none")
    from sutskever_plugin.machine import commit as commit_of_code, describe
    hardware, commit = describe(), commit_of_code()
    try:
        facts = job_time(a.work)
    except ValueError as e:
        sys.exit(f"error: {e}")
    if facts["df"].empty:
        sys.exit(f"error: {a.work} holds no steps: run bash scripts/reproduce_table1.sh first")
    command = " ".join(["python -m sutskever_plugin.reporting.job_time", *(argv or sys.argv[1:])])
    write_csv(os.path.join(a.out, f"job_time_{scale}.csv"), csv_rows(facts, scale, hardware, commit),
              CSV_COLUMNS)
    write_text(os.path.join(a.out, f"job_time_{scale}.md"),
               markdown(facts, scale, hardware, commit, a.work, command))
    print(f"wrote {os.path.join(a.out, f'job_time_{scale}.md')} and .csv")


if __name__ == "__main__":
    main()
