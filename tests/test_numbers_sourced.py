"""Every number in a hand-written text is found in a committed file that a script wrote.

Hand-written texts (the notes), by name:

- ``README.md`` at the repository's root;
- every file under ``docs/``, at any depth;
- under ``results/``, at any depth: every ``README.md``, every ``*notes*.md``, and the
  section of a ``benchmark.md`` from its ``## Benchmark notes`` heading on (the part
  ``scripts/benchmark.py`` keeps across reruns).

Sources (script-written):

- every ``.csv``, ``.md``, ``.json``, ``.txt``, ``.log`` and ``.tsv`` file under
  ``results/`` that is not a note (a ``benchmark.md`` up to its notes section);
- the paper's numbers as the code holds them: ``BLEU_ROWS`` and ``PPL_ROWS`` of
  ``sutskever_plugin/reporting/table1.py``, ``ROWS`` of ``reporting/table2.py`` and the
  module-level ``PAPER_*`` constants of the package (read from the source, not imported);
- the recipe: the assignments, not the comments, of ``scripts/recipe_small.sh``.

A number in a note is, outside fenced code blocks, inline code spans, link targets and
URLs (commands, flags and file names are not read):

- a decimal (``22.45``, ``0.3``, ``7.45e-09``), an integer of 100 or more (``1589``;
  ``5,693``, compared without its comma), or any number followed by ``%`` (``41%``);
- a range such as ``186.3-198.6`` is its two ends; a sign is dropped (``+1.10`` is 1.10).

Not numbers: integers below 100 written without a decimal point; digits inside a word or
name (``reversed1``, ``x512``, ``bf16``, ``WMT'14``, ``H200``, ``547fa4b``); an all-digit
run of 7 or more digits without separators (a commit hash such as ``2546855``); version
strings (``2.13.0``, ``v2.6``, and any version after a software's name: ``Python
3.10-3.12``, ``torch 2.4``); dates and times (``2026-12-04``, ``04:28:56``); the
years 1990-2039; issue numbers (``#38``).

A note's number N, written with d decimals, is sourced when a source holds a number v
that rounds to N at d decimals (half up or half even): ``94.9`` from 94.87, ``0.30``
from 0.3, ``5,693`` from 5693; a percentage p% also by a fraction that rounds to p/100
(``41%`` from 0.41 or 0.413).

Run ``python tests/test_numbers_sourced.py`` for the list of unsourced numbers of every
note (file:line: number), the same list a failing test prints.
"""
import ast
import re
import sys
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARK_NOTES = "## Benchmark notes"
SOURCE_SUFFIXES = {".csv", ".md", ".json", ".txt", ".log", ".tsv"}
PAPER_CODE = ["sutskever_plugin/reporting/table1.py", "sutskever_plugin/reporting/table2.py"]
PAPER_NAMES = re.compile(r"^(BLEU_ROWS|PPL_ROWS|ROWS|PAPER_\w+)$")
RECIPE = "scripts/recipe_small.sh"
MAX_DECIMALS = 8

# ---- reading a note ---------------------------------------------------------------------

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")
# whole tokens skipped before numbers are read
SKIPPED = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?Z?)?"),  # dates
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),                            # times
    re.compile(r"(?<![\w.])v?\d+(?:\.\d+){2,}(?![\w.]*\d)"),                # versions x.y.z
    re.compile(r"(?<![\w.])v\d+(?:\.\d+)*"),                                # v2.6
    re.compile(r"#\d+"),                                                    # issues
    # a version after a software's name, with the versions joined to it: Python 3.10-3.12,
    # torch 2.4 or later, fairseq 0.12 and 0.13
    re.compile(r"\b(?:[Pp]ython|[Tt]orch|PyTorch|fairseq|CUDA|cuDNN|cuda|numpy|NumPy|"
               r"sacre[Bb][Ll][Ee][Uu]|pip|gcc|glibc|Ubuntu|Debian|[Vv]ersions?|[Rr]elease)"
               r"[ \t]*(?:[=<>!~]=?[ \t]*)?v?\d+(?:\.\d+)*"
               r"(?:[ \t]*(?:-|–|,|or|and|to)[ \t]*v?\d+(?:\.\d+)*)*"),
]
NUMBER = re.compile(
    r"(?<![\w.'’,])"                       # not inside a word, a name or a longer number
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+[eE][-+]?\d+|\d+[eE][-+]\d+"
    r"|\d+(?:\.\d+)?)"
    r"(?P<pct>\s?%)?"
    r"(?![\w.]*\d)"                          # nor followed by more of a word or number,
    r"(?!(?!(?:x|k|K|M|G|B|GiB|MiB|GB|MB|s|ms|min|h|st|nd|rd|th)\b)[A-Za-z_])")  # but a unit


def _blank(match):
    return " " * len(match.group(0))


def prose_lines(text):
    """(line number, the line with code, link targets, URLs and skipped tokens blanked)."""
    fenced = False
    for i, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        for pattern in [CODE_SPAN, LINK_TARGET, URL] + SKIPPED:
            line = pattern.sub(_blank, line)
        yield i, line


def _decimals(num):
    mantissa = num.lower().split("e")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def numbers_in(text):
    """[(line number, the number as written, Decimal value, decimals shown, is a %)]."""
    found = []
    for lineno, line in prose_lines(text):
        for m in NUMBER.finditer(line):
            num, pct = m.group("num"), bool(m.group("pct"))
            plain = num.replace(",", "")
            decimal_point = "." in plain or "e" in plain.lower()
            if not pct and not decimal_point:
                value = int(plain)
                if value < 100:
                    continue
                if "," not in num and (len(plain) >= 7 or 1990 <= value <= 2039):
                    continue  # a commit hash, a year
            try:
                value = Decimal(plain)
            except InvalidOperation:
                continue
            found.append((lineno, num + ("%" if pct else ""), value, _decimals(plain), pct))
    return found


# ---- which files are which ------------------------------------------------------------

def note_texts(root):
    """{path relative to root: the hand-written text} (see the module's docstring)."""
    root = Path(root)
    notes = {}
    readme = root / "README.md"
    if readme.is_file():
        notes["README.md"] = readme.read_text(encoding="utf-8")
    docs = root / "docs"
    if docs.is_dir():
        for p in sorted(docs.rglob("*")):
            if p.is_file():
                try:
                    notes[p.relative_to(root).as_posix()] = p.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue  # an image or other binary file: no prose
    results = root / "results"
    if results.is_dir():
        for p in sorted(results.rglob("*.md")):
            rel = p.relative_to(root).as_posix()
            if p.name == "README.md" or "notes" in p.name:
                notes[rel] = p.read_text(encoding="utf-8")
            elif p.name == "benchmark.md":
                text = p.read_text(encoding="utf-8")
                if BENCHMARK_NOTES in text:
                    head, tail = text.split(BENCHMARK_NOTES, 1)
                    # keep the line numbers of the file
                    notes[rel] = "\n" * head.count("\n") + BENCHMARK_NOTES + tail
    return notes


def source_texts(root):
    """[(path relative to root, script-written text)] under results/."""
    root = Path(root)
    out = []
    results = root / "results"
    if not results.is_dir():
        return out
    for p in sorted(results.rglob("*")):
        if not p.is_file() or p.suffix not in SOURCE_SUFFIXES:
            continue
        if p.name == "README.md" or ("notes" in p.name and p.suffix == ".md"):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        if p.name == "benchmark.md":
            text = text.split(BENCHMARK_NOTES, 1)[0]
        out.append((p.relative_to(root).as_posix(), text))
    return out


def paper_numbers(root):
    """The numbers of the paper as the code holds them (see the module's docstring)."""
    root = Path(root)
    values = []
    files = [root / f for f in PAPER_CODE]
    package = root / "sutskever_plugin"
    if package.is_dir():
        files += sorted(p for p in package.rglob("*.py") if p not in files)
    for path in files:
        if not path.is_file():
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, (ast.Assign, ast.AnnAssign)):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if not any(PAPER_NAMES.match(n) for n in names):
                continue
            if path.name not in ("table1.py", "table2.py") and not any(
                    n.startswith("PAPER_") for n in names):
                continue
            try:  # a plain expression of numbers, e.g. 348e6 + 304e6
                value = eval(compile(ast.Expression(node.value), str(path), "eval"),
                             {"__builtins__": {}})
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    values.append(repr(value))
            except Exception:
                pass
            for sub in ast.walk(node.value):
                if isinstance(sub, ast.Constant):
                    if isinstance(sub.value, (int, float)) and not isinstance(sub.value, bool):
                        values.append(repr(sub.value))
                    elif isinstance(sub.value, str):
                        values += re.findall(r"\d+(?:\.\d+)?", sub.value)
    return values


def recipe_numbers(root):
    path = Path(root) / RECIPE
    if not path.is_file():
        return []
    code = [line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
    return [n for line in code if "=" in line for n in re.findall(r"\d+(?:\.\d+)?", line)]


SOURCE_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])")


def source_numbers(root):
    """Every number written in a source, as text (permissive: digits inside names count)."""
    numbers = []
    for _, text in source_texts(root):
        numbers += SOURCE_NUMBER.findall(text)
        numbers += [m.replace(",", "") for m in THOUSANDS.findall(text)]
    return numbers + paper_numbers(root) + recipe_numbers(root)


def roundings(numbers):
    """{(decimals, rounded value)} of every source number at 0..MAX_DECIMALS decimals."""
    keys = set()
    for text in set(numbers):
        try:
            v = Decimal(text)
        except InvalidOperation:
            continue
        if not v.is_finite():
            continue
        for mode in (ROUND_HALF_UP, ROUND_HALF_EVEN):
            for d in range(MAX_DECIMALS + 1):
                try:
                    keys.add((d, v.quantize(Decimal(1).scaleb(-d), rounding=mode)))
                except InvalidOperation:
                    pass
            if v:  # at 1..6 significant digits, for numbers written as 7.45e-09
                for sig in range(1, 7):
                    q = Decimal(1).scaleb(v.adjusted() - sig + 1)
                    keys.add(("sig", sig, v.quantize(q, rounding=mode).normalize()))
    return keys


def is_sourced(value, decimals, pct, keys):
    if decimals > MAX_DECIMALS:
        return False
    if (decimals, value) in keys:
        return True
    if pct and decimals + 2 <= MAX_DECIMALS:
        return (decimals + 2, (value / 100).quantize(Decimal(1).scaleb(-(decimals + 2)))) in keys
    return False


def _exponent_form(value, written, keys):
    """7.45e-09: compared at its own significant digits."""
    mantissa = written.lower().split("e")[0]
    sig = len(mantissa.replace(".", "").lstrip("0")) or 1
    return ("sig", sig, value.normalize()) in keys


def unsourced_in(path, text, keys):
    """[(path, line number, the number as written)] of one note found in no source."""
    return [(path, lineno, written)
            for lineno, written, value, decimals, pct in numbers_in(text)
            if not (_exponent_form(value, written, keys) if "e" in written.lower()
                    else is_sourced(value, decimals, pct, keys))]


def unsourced(root=REPO):
    """[(note path, line number, the number as written)] of every note, found in no source."""
    keys = roundings(source_numbers(root))
    return [m for path, text in note_texts(root).items() for m in unsourced_in(path, text, keys)]


def report(missing):
    return "\n".join(f"{p}:{n}: {w}" for p, n, w in missing)


# ---- the tests ------------------------------------------------------------------------

NOTES = sorted(note_texts(REPO))


@pytest.fixture(scope="module")
def source_keys():
    return roundings(source_numbers(REPO))


@pytest.mark.parametrize("note", NOTES)
def test_every_number_of_a_note_is_in_a_script_written_file(note, source_keys):
    missing = unsourced_in(note, note_texts(REPO)[note], source_keys)
    assert not missing, (
        f"{len(missing)} number(s) of {note} found in no script-written file under results/, "
        "nor among the paper's numbers in the code or the recipe's settings "
        "(tests/test_numbers_sourced.py says what counts):\n" + report(missing))


def test_the_notes_are_found():
    assert "results/table1_notes_small.md" in NOTES
    assert "results/tuning_small/notes.md" in NOTES
    assert "results/benchmark.md" in NOTES  # its notes section
    assert all(not p.startswith("results/") or p.endswith(".md") for p in NOTES)


def _tree(tmp_path, note):
    (tmp_path / "results" / "sub").mkdir(parents=True)
    (tmp_path / "results" / "table.csv").write_text(
        "method,bleu,wall_s,share\nforward,22.45,5693,0.413\nreversed,94.87,186.3,0.3\n")
    (tmp_path / "results" / "sub" / "log.txt").write_text(
        "epoch 198.6 cost 1,234.5 diff 7.450580596923828e-09\n")
    (tmp_path / "results" / "notes_small.md").write_text(note)
    return tmp_path


def test_a_made_up_number_is_reported(tmp_path):
    root = _tree(tmp_path, "# Reading\n\nBLEU 22.45 and 94.9;\nthe run took 5,693 s, "
                           "cost 186.3-198.6 CPU s, 41% of it; 1234.5 too.\n"
                           "A made-up 31.42 here, and 5,694 s.\n"
                           "At most 7.45e-09, not 7.46e-09.\n")
    assert unsourced(root) == [("results/notes_small.md", 5, "31.42"),
                               ("results/notes_small.md", 5, "5,694"),
                               ("results/notes_small.md", 6, "7.46e-09")]


def test_a_generated_file_does_not_source_itself_through_its_notes(tmp_path):
    root = _tree(tmp_path, "nothing\n")
    (root / "results" / "benchmark.md").write_text(
        "# Benchmark\n\n| a |\n|---|\n| 12.5 |\n\n## Benchmark notes\n\n12.5 and 77.7\n")
    assert unsourced(root) == [("results/benchmark.md", 9, "77.7")]
    (root / "results" / "README.md").write_text("88.8 in a README\n")
    (root / "results" / "notes_small.md").write_text("88.8 again\n")
    assert ("results/notes_small.md", 1, "88.8") in unsourced(root)


def test_what_is_not_read_as_a_number():
    text = "\n".join([
        "Small integers 7 and 99, seeds 1-5, issue #38, issue 14 item 6.",
        "Names: reversed1, amd_r2x512e256, bf16, WMT'14, H200, commit 547fa4b, commit 2546855.",
        "Versions 2.13.0+cpu and v2.6; on 2026-12-04 04:28:56 UTC; in 2014.",
        "Python 3.10-3.12 and torch 2.4 or later, fairseq 0.12 and 0.13.",
        "Code: `--lr 0.003 --max-tokens 4000`, a [link](results/x_123.4.md).",
        "```", "bash run.sh --budget 987.6", "```",
        "https://example.org/a/100.5",
    ])
    assert numbers_in(text) == []


def test_what_is_read_as_a_number():
    got = [(w, d, p) for _, w, _, d, p in numbers_in(
        "BLEU 22.45 (+1.10), 5,693 s, 186.3-198.6, 41% and 2.5 %, 1589 updates, 2.16x, "
        "7.45e-09, 0.30.")]
    assert got == [("22.45", 2, False), ("1.10", 2, False), ("5,693", 0, False),
                   ("186.3", 1, False), ("198.6", 1, False), ("41%", 0, True),
                   ("2.5%", 1, True), ("1589", 0, False), ("2.16", 2, False),
                   ("7.45e-09", 2, False), ("0.30", 2, False)]


def test_rounding_to_the_shown_digits():
    keys = roundings(["94.87", "0.3", "5693", "0.413", "94.85"])
    assert is_sourced(Decimal("94.9"), 1, False, keys)
    assert is_sourced(Decimal("94.8"), 1, False, keys)   # 94.85 half even
    assert is_sourced(Decimal("0.30"), 2, False, keys)
    assert is_sourced(Decimal("5693"), 0, False, keys)
    assert is_sourced(Decimal("41"), 0, True, keys)       # 41% from 0.413
    assert not is_sourced(Decimal("94.87"), 2, False, roundings(["94.9"]))  # more digits than the file
    assert not is_sourced(Decimal("42"), 0, True, keys)


if __name__ == "__main__":
    found = unsourced(REPO)
    print(report(found) or "every number of the notes is sourced")
    sys.exit(1 if found else 0)
