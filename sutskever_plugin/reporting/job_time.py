"""Where the main job's own time goes: scripts/reproduce_table1.sh's wall clock divided into
its phases, from ``WORK/logs/steps.tsv`` (lib.sh's ``timeline``), the fairseq-train logs (a
resumed training appends a second process) and ``train_wall_s`` of ``WORK/models/NAME.json``.

    python -m sutskever_plugin.reporting.job_time --work work/small --out results

Every second from the first step's start to the last one's end goes to the phase running
then (split evenly if two ran at once), to "between steps" when none did, or to "idle" in
gaps over IDLE_GAP_S (the script was not running): the job's time is the total less idle.
"""
import argparse
import glob
import os
import sys

import pandas as pd

from sutskever_plugin.data.textio import write_text
from sutskever_plugin.scoring.fairseq_output import read_log, train_runs
from sutskever_plugin.tables import load_json, report_head, table_head, table_row, write_csv

STATUSES = ("done", "skipped", "failed")
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


def read_steps(path) -> list:
    """steps.tsv as items; a malformed line is an error naming it."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            try:
                if len(fields) != 5:
                    raise ValueError(f"{len(fields)} tab-separated fields, expected 5 "
                                     "(UTC start, UTC end, wall seconds, status, step name)")
                start, end = (pd.Timestamp(x) for x in fields[:2])
                wall = float(fields[2])
                if fields[3] not in STATUSES:
                    raise ValueError(f"status {fields[3]!r} is not one of {', '.join(STATUSES)}")
            except ValueError as e:
                raise ValueError(f"{path}:{i}: not a step line ({e}): {line!r}") from None
            rows.append(dict(phase=phase_of(fields[4]), name=fields[4], status=fields[3], start=start,
                             end=end, wall_s=wall, source=f"logs/steps.tsv:{i}"))
    return rows


def training_items(work) -> list:
    """One item per fairseq-train process of every training log, with the model's own
    train_wall_s."""
    items = []
    for log in sorted(glob.glob(os.path.join(work, "logs", "train_*.log"))):
        name = os.path.basename(log)[len("train_"):-len(".log")]
        rec = (load_json(os.path.join(work, "models", f"{name}.json")) or {}).get("train_wall_s")
        runs = train_runs(read_log(log))
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
    running at once averaged over each training's time (NaN for other items))."""
    attributed = {p: 0.0 for p in ATTRIBUTED}
    at_once = pd.Series(float("nan"), index=items.index)
    cuts = sorted(set(items["start"]) | set(items["end"]))
    weighted = {i: 0.0 for i in items.index}
    for a, b in zip(cuts, cuts[1:]):
        seg = (b - a).total_seconds()
        active = items[(items["start"] <= a) & (items["end"] >= b)]
        if active.empty:
            attributed["idle" if seg > IDLE_GAP_S else "between steps"] += seg
            continue
        phases = sorted(set(active["phase"]))
        for p in phases:
            attributed[p] += seg / len(phases)
        trainings = active[active["phase"] == "training"]
        for i in trainings.index:
            weighted[i] += seg * len(trainings)
    for i in items[items["phase"] == "training"].index:
        span = (items.at[i, "end"] - items.at[i, "start"]).total_seconds()
        at_once[i] = weighted[i] / span if span > 0 else 1.0
    return attributed, at_once


def job_time(work):
    """The report's facts: every item (steps, training processes), the seconds per phase, the totals."""
    steps_path = os.path.join(work, "logs", "steps.tsv")
    if not os.path.exists(steps_path):
        raise ValueError(f"{steps_path}: no such file (the steps of bash scripts/reproduce_table1.sh)")
    trainings = training_items(work)
    logged = {t["name"].split(" (")[0] for t in trainings}
    # a training's fairseq-train processes, from its log, stand for its step
    items = [s for s in read_steps(steps_path) if not (s["phase"] == "training" and s["name"] in logged)]
    if not items + trainings:
        raise ValueError(f"{work} holds no steps: run bash scripts/reproduce_table1.sh first")
    df = pd.DataFrame(items + trainings, columns=["phase", "name", "status", "start", "end", "wall_s",
                                      "recorded_wall_s", "source"])
    for col in ("start", "end"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df = df.sort_values("start", kind="stable").reset_index(drop=True)
    attributed, df["at_once"] = sweep(df)
    first, last = df["start"].min(), df["end"].max()
    total = (last - first).total_seconds()
    # the job's time: the wall clock less the idle gaps (script not running)
    running = total - attributed["idle"]
    return dict(first=first, last=last, total=total, running=running, attributed=attributed, df=df)


def _phases(facts):
    """(phase, its items) of every phase with items or attributed seconds, in order."""
    for phase in ATTRIBUTED:
        mine = facts["df"][facts["df"]["phase"] == phase]
        if not mine.empty or facts["attributed"][phase]:
            yield phase, mine


def _round(x, nd):
    return None if x is None or pd.isna(x) else round(float(x), nd)


def _utc(t):
    return t.strftime("%Y-%m-%d %H:%M:%S")


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
                     wall_s=round(total, 1), attributed_wall_s=round(sum(attributed.values()), 1),
                     share_of_total=1.0 if total else None, source=source, **base))
    running = facts["running"]
    rows.append(dict(level="total", phase="running", name="the total less idle: the job's time",
                     wall_s=round(running, 1),
                     share_of_total=round(running / total, 4) if total else None,
                     source=source, **base))
    return rows


def markdown(facts, scale, hardware, commit, work, command):
    df, total, attributed = facts["df"], facts["total"], facts["attributed"]
    running, idle = facts["running"], attributed["idle"]
    facts_lines = [
        f"- Scale: **{scale}**; report written on: {hardware}; commit {commit} (of the "
        "checkout that wrote this report)",
        f"- Job time: **{running:,.0f} s** ({running / 60:,.1f} min) with the script "
        f"running, from {_utc(facts['first'])} to {_utc(facts['last'])} UTC"
        + (f" ({total:,.0f} s wall, less {idle:,.0f} s idle: gaps over {IDLE_GAP_S} s "
           "with no step running, the script stopped and started again)" if idle else
           " (no idle gaps: one uninterrupted run)")]
    trains = df[df["phase"] == "training"]
    if not trains.empty:
        span = (trains["end"].max() - trains["start"].min()).total_seconds()
        facts_lines.append(
            f"- Trainings: {len(trains)} fairseq-train processes, {trains['wall_s'].sum():,.0f} s "
            f"summed, {span:,.0f} s from the first one's start to the last one's end, "
            f"{trains['at_once'].max():.1f} running at once at most (times from the first and "
            "last timestamped line of each `logs/train_NAME.log`, in this machine's time zone)")
    lines = report_head(f"Where the main job's time goes ({scale} scale)",
                        f"`{command}` from the work directory `{work}` of `bash scripts/reproduce_table1.sh`",
                        facts_lines)
    lines += ["## By phase", "",
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
    a = p.parse_args(argv)
    if not os.path.isdir(a.work):
        p.error(f"--work {a.work}: no such directory")
    scale = (load_json(os.path.join(a.work, "data", "summary.json")) or {}).get("scale")
    if not scale:
        p.error(f"{os.path.join(a.work, 'data', 'summary.json')} names no scale")
    from sutskever_plugin.machine import commit as commit_of_code, describe
    hardware, commit = describe(), commit_of_code()
    try:
        facts = job_time(a.work)
    except ValueError as e:
        sys.exit(f"error: {e}")
    command = " ".join(["python -m sutskever_plugin.reporting.job_time", *(argv or sys.argv[1:])])
    write_csv(os.path.join(a.out, f"job_time_{scale}.csv"), csv_rows(facts, scale, hardware, commit),
              CSV_COLUMNS)
    write_text(os.path.join(a.out, f"job_time_{scale}.md"),
               markdown(facts, scale, hardware, commit, a.work, command))
    print(f"wrote {os.path.join(a.out, f'job_time_{scale}.md')} and .csv")


if __name__ == "__main__":
    main()
