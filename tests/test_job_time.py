"""python -m sutskever_plugin.reporting.job_time on a work directory written here in the
formats reproduce_table1.sh leaves (steps.tsv, fairseq-train logs, models/*.json,
decode/*.json); every expected second is derived from the times written."""
import csv
import json
from datetime import datetime, timedelta, timezone

import pytest

from sutskever_plugin.reporting.job_time import IDLE_GAP_S, main

T0 = datetime(2026, 3, 1, 10, 0, 0, tzinfo=timezone.utc)


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def fairseq_time(t):
    """fairseq logs local time"""
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S")


# (name, status, start s, end s) of the steps as scripts/lib.sh records them: a first
# invocation, then a rerun after a stop (its data preparation skipped)
STEPS = [("prepare data", "done", 0, 120),
         ("test perplexity forward", "done", 3605, 3635),
         ("test perplexity reversed1", "done", 3635, 3660),
         ("decode forward beam 12", "done", 3660, 3780),
         ("decode reversed beam 12", "failed", 3780, 3790),
         ("write table", "done", 3792, 3800),
         ("prepare data", "skipped", 7200, 7200),
         ("decode reversed beam 12", "done", 7201, 7261)]
# trainings: name -> fairseq-train processes (start s, end s); "b" was stopped and resumed
TRAININGS = {"a": [(120, 2400)], "b": [(121, 1000), (1010, 1800)], "c": [(1801, 3600)]}
TRAIN_WALL = {"a": 2281, "b": 791, "c": 1800}
DECODES = {"forward_beam12": 118, "reversed_beam12": 59}


def write_log(path, runs):
    lines = []
    for start, end in runs:
        # a process logs while importing, then its config line
        lines += [f"{fairseq_time(at(start))} | INFO | fairseq.tasks.text_to_speech | Please install tensorboardX",
                  "/some/warning.py:1: UserWarning: a line without a time",
                  f"{fairseq_time(at(start + 3))} | INFO | fairseq_cli.train | {{'_name': None, 'common': {{}}}}",
                  f"{fairseq_time(at((start + end) // 2))} | INFO | train_inner | epoch 001:     50 / 63 loss=9.1, ppl=549.3",
                  f"{fairseq_time(at(end))} | INFO | fairseq_cli.train | done training in {end - start:.1f} seconds"]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def work(tmp_path):
    w = tmp_path / "work"
    for d in ("logs", "models", "decode", "data"):
        (w / d).mkdir(parents=True)
    (w / "data" / "summary.json").write_text(json.dumps({"scale": "small", "dataset": "multi30k"}))
    (w / "logs" / "steps.tsv").write_text("".join(
        f"{iso(at(s))}\t{iso(at(e))}\t{e - s}\t{status}\t{name}\n" for name, status, s, e in STEPS))
    for name, runs in TRAININGS.items():
        write_log(w / "logs" / f"train_{name}.log", runs)
        (w / "models" / f"{name}.json").write_text(json.dumps({"train_wall_s": TRAIN_WALL[name]}))
    for name, wall in DECODES.items():
        (w / "decode" / f"{name}.json").write_text(json.dumps({"bleu_tokenized": 10.0, "wall_s": wall}))
    return w


def union(intervals):
    total, end = 0, None
    for s, e in sorted(intervals):
        if end is None or s > end:
            total += e - s
            end = e
        elif e > end:
            total += e - end
            end = e
    return total


def rows_of(out):
    with open(out / "job_time_small.csv") as f:
        return list(csv.DictReader(f))


def test_phases_and_total_from_steps_and_training_logs(work, tmp_path):
    out = tmp_path / "out"
    main(["--work", str(work), "--out", str(out)])
    rows = rows_of(out)
    phase = {r["phase"]: r for r in rows if r["level"] == "phase"}
    total = next(r for r in rows if r["phase"] == "total")
    running = next(r for r in rows if r["phase"] == "running")

    first = min(s for _, _, s, _ in STEPS)
    last = max(e for _, _, _, e in STEPS)
    assert float(total["wall_s"]) == last - first
    train_spans = [r for runs in TRAININGS.values() for r in runs]
    assert float(phase["training"]["attributed_wall_s"]) == union(train_spans)
    assert float(phase["training"]["wall_s"]) == sum(e - s for s, e in train_spans)
    assert float(phase["data preparation"]["attributed_wall_s"]) == 120
    assert float(phase["test perplexity"]["attributed_wall_s"]) == 3660 - 3605
    decodes = [(s, e) for n, _, s, e in STEPS if n.startswith("decode")]
    assert float(phase["decoding"]["attributed_wall_s"]) == sum(e - s for s, e in decodes)
    assert float(phase["table"]["attributed_wall_s"]) == 8
    # gaps with nothing running: short ones are between steps, long ones the script stopped
    busy = sorted([(s, e) for _, _, s, e in STEPS] + train_spans)
    gaps, end = [], busy[0][1]
    for s, e in busy[1:]:
        if s > end:
            gaps.append(s - end)
        end = max(end, e)
    assert float(phase["idle"]["attributed_wall_s"]) == sum(g for g in gaps if g > IDLE_GAP_S)
    assert float(phase["between steps"]["attributed_wall_s"]) == sum(g for g in gaps if g <= IDLE_GAP_S)
    # the job is charged for the time its script ran, not for the gaps between its runs
    idle = sum(g for g in gaps if g > IDLE_GAP_S)
    assert idle > 0 and float(running["wall_s"]) == last - first - idle
    # the attributed seconds add up to the total
    assert sum(float(r["attributed_wall_s"]) for r in phase.values()) == pytest.approx(last - first)
    for r in rows:
        assert r["scale"] == "small" and r["hardware"] and r["commit"], r

    steps = [r for r in rows if r["level"] == "step"]
    trains = {r["name"]: r for r in steps if r["phase"] == "training"}
    assert set(trains) == {"train a", "train b (process 1 of 2)", "train b (process 2 of 2)", "train c"}
    # trainings running at once, over each one's time: itself plus its overlaps with the others
    for name, (s, e) in (("train a", TRAININGS["a"][0]), ("train c", TRAININGS["c"][0])):
        overlap = sum(max(0, min(e, e2) - max(s, s2)) for other, runs in TRAININGS.items()
                      for s2, e2 in runs if f"train {other}" != name)
        assert float(trains[name]["at_once"]) == pytest.approx(round((e - s + overlap) / (e - s), 2))
        assert float(trains[name]["wall_s"]) == e - s
    assert float(trains["train a"]["recorded_wall_s"]) == TRAIN_WALL["a"]
    assert trains["train b (process 1 of 2)"]["status"] == "stopped"
    assert {r["status"] for r in steps if r["name"] == "decode reversed beam 12"} == {"failed", "done"}

    md = (out / "job_time_small.md").read_text()
    assert f"Job time: **{last - first - idle:,.0f} s**" in md
    assert f"({last - first:,.0f} s wall, less {idle:,.0f} s idle" in md
    assert "| training |" in md and "| decoding |" in md and "| idle |" in md
    assert "Scale: **small**" in md and "commit" in md


def test_without_steps_tsv_it_names_the_missing_file(work, tmp_path):
    (work / "logs" / "steps.tsv").unlink()
    with pytest.raises(SystemExit) as e:
        main(["--work", str(work), "--out", str(tmp_path / "out")])
    assert "steps.tsv: no such file" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_a_malformed_steps_line_is_named(work, tmp_path):
    with open(work / "logs" / "steps.tsv", "a") as f:
        f.write(f"{iso(at(9000))}\t{iso(at(9010))}\t10\tmaybe\tdecode x\n")
    with pytest.raises(SystemExit) as e:
        main(["--work", str(work), "--out", str(tmp_path / "out")])
    assert f"steps.tsv:{len(STEPS) + 1}:" in str(e.value) and "'maybe'" in str(e.value)


def test_the_benchmark_report_links_the_job_time_report(work, tmp_path):
    from sutskever_plugin.benchmark.report import related_reports
    lines = related_reports(tmp_path)
    assert len(lines) == 2 and all("not written yet" in line for line in lines)
    main(["--work", str(work), "--out", str(tmp_path)])
    line = next(line for line in related_reports(tmp_path) if "main job" in line)
    assert "[`job_time_small.md`](job_time_small.md)" in line
