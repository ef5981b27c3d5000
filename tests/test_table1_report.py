"""Table 1's report from a work directory: every seed's row, the reversal verdict read
against the spread between seeds, the ensemble's beams on valid and test, the learning
curves, and the bf16 and fp32 matmul rates."""
import json

import pandas as pd

from sutskever_plugin.benchmark import bf16_choice
from sutskever_plugin.reporting import table1

VALID_LINE = ("2026-12-01 16:00:00 | INFO | valid | epoch {e:03d} | valid on 'valid' subset | loss 3.1 "
              "| nll_loss 3.1 | ppl {ppl} | wps 100 | wpb 400 | bsz 28 | num_updates {u} | best_loss 3.1\n")


def make_work(tmp_path, bleu, ppl):
    """A work dir as reproduce_table1.sh leaves it: models/NAME.json, logs, ppl, decodes."""
    w = tmp_path / "work"
    for d in ("models", "logs", "ppl", "decode"):
        (w / d).mkdir(parents=True)
    curves = {}
    for i, name in enumerate(sorted(bleu)):
        seed = int(name[-1]) if name[-1].isdigit() else 1
        (w / "models" / f"{name}.json").write_text(json.dumps(
            {"train_wall_s": 100 + i, "commit": "abc1234", "seed": seed, "task": "t"}))
        curve = [(10, 50.0 + i), (20, 20.0 + i), (30, 25.0 + i)]   # best is not the last
        curves[name] = curve
        (w / "logs" / f"train_{name}.log").write_text(
            "".join(VALID_LINE.format(e=k + 1, ppl=p, u=u) for k, (u, p) in enumerate(curve)))
        (w / "ppl" / f"{name}.json").write_text(json.dumps({"ppl": ppl[name]}))
        decode = {"forward": "forward_beam12", "reversed1": "reversed_beam12"}.get(name, name + "_beam12")
        (w / "decode" / f"{decode}.json").write_text(json.dumps({"bleu_tokenized": bleu[name]}))
    return w, curves


def test_seed_rows_and_a_reversal_beyond_the_seed_spread(tmp_path):
    bleu = {"forward": 20.0, "forward2": 21.0, "reversed1": 23.0, "reversed2": 22.5}
    ppl = {"forward": 8.0, "forward2": 7.8, "reversed1": 7.0, "reversed2": 7.2}
    w, curves = make_work(tmp_path, bleu, ppl)
    seeds = table1.seed_table(str(w))
    assert list(seeds["model"]) == sorted(bleu)
    assert dict(zip(seeds["model"], seeds["test_bleu_beam12"])) == bleu
    assert dict(zip(seeds["model"], seeds["test_ppl"])) == ppl
    assert dict(zip(seeds["model"], seeds["best_val_ppl"])) == {n: min(p for _, p in c) for n, c in curves.items()}
    lines = table1.reversal_verdict(seeds)
    assert len(lines) == 2 and all("every reversed seed is better" in l for l in lines)
    assert "margin 1.50" in lines[0]                       # 22.5 - 21.0
    assert "margin 0.60" in lines[1]                       # 7.8 - 7.2


def test_overlapping_seeds_do_not_show_reversal(tmp_path):
    bleu = {"forward": 20.0, "forward2": 23.5, "reversed1": 23.0, "reversed2": 22.5}
    ppl = {"forward": 8.0, "forward2": 6.9, "reversed1": 7.0, "reversed2": 7.2}
    w, _ = make_work(tmp_path, bleu, ppl)
    lines = table1.reversal_verdict(table1.seed_table(str(w)))
    assert len(lines) == 2 and all("not shown beyond the seed spread" in l for l in lines)


def test_curves_and_beam_table(tmp_path):
    w, curves = make_work(tmp_path, {"forward": 1.0, "reversed1": 2.0}, {"forward": 9.0, "reversed1": 8.0})
    for beam, v, t in ((1, 10.0, 11.0), (2, 10.5, 11.5), (12, 11.0, 12.0)):
        (w / "decode" / f"valid_ens5_beam{beam}.json").write_text(json.dumps({"bleu_tokenized": v}))
        (w / "decode" / f"ens5_beam{beam}.json").write_text(json.dumps({"bleu_tokenized": t}))
    beams = table1.beam_table(str(w))
    assert list(beams["valid"]) == [10.0, 10.5, 11.0] and list(beams["test"]) == [11.0, 11.5, 12.0]
    out = tmp_path / "out"
    out.mkdir()
    df = table1.learning_curves(str(w), str(out), "tiny")
    assert (out / "table1_curves_tiny.png").stat().st_size > 0
    csv = pd.read_csv(out / "table1_curves_tiny.csv")
    assert len(csv) == len(df) == sum(len(c) for c in curves.values())
    assert list(csv[csv["model"] == "reversed1"]["val_ppl"]) == [p for _, p in curves["reversed1"]]


def test_bf16_choice_measures_both_sizes():
    res = bf16_choice.measure(seconds=0.3)
    assert all(res[f"bf16_over_fp32_{n}"] > 0 for n in (512, 2048))


def test_notes_are_linked_not_copied(tmp_path):
    """table1.md holds only what the script writes: the hand-written notes stay in their own
    file, which the table links to where it exists."""
    w, _ = make_work(tmp_path, {"forward": 1.0, "reversed1": 2.0}, {"forward": 9.0, "reversed1": 8.0})
    out = tmp_path / "results"
    out.mkdir()
    notes = out / "table1_notes_tiny.md"
    notes.write_text("## Findings of this run\n\nIt quotes 12.34.\n")
    args = ["--work", str(w), "--scale", "tiny", "--out", str(out), "--notes", str(notes)]
    assert table1.main(args) == 0
    md = (out / "table1.md").read_text()
    assert "[`table1_notes_tiny.md`](table1_notes_tiny.md)" in md
    assert "Findings of this run" not in md and "12.34" not in md
    notes.unlink()
    assert table1.main(args) == 0
    assert "table1_notes_tiny" not in (out / "table1.md").read_text()
