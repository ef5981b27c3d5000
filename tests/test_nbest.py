"""Moses n-best lists: round trips, property-based fuzzing, and errors naming file:line."""
import io
import math
import os
import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sutskever_plugin.data.nbest import (
    NbestEntry,
    NbestFormatError,
    format_entry,
    load_nbest,
    parse_features,
    parse_line,
    write_nbest,
)

MOSES_LINES = """\
0 ||| un chien . ||| Distortion0= 0 LM0= -12.3 WordPenalty0= -3 PhrasePenalty0= 2 TranslationModel0= -1 -2.5 -0.25 -3 ||| -4.1
0 ||| le chien . ||| Distortion0= -2 LM0= -13.1 WordPenalty0= -3 PhrasePenalty0= 3 TranslationModel0= -1.5 -2 -0.5 -3.5 ||| -4.75
1 ||| deux chats dorment ||| LM0= -20 TranslationModel0= -4 -4 -4 -4 ||| -9.5 ||| 0-0 1-1 2-2
"""


def _write(tmp_path, text, name="list.nbest"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _read(text, n_sent):
    """The entries of ``text`` read from a temporary file (hypothesis tests cannot take tmp_path)."""
    with tempfile.NamedTemporaryFile("w", suffix=".nbest", encoding="utf-8", delete=False) as f:
        f.write(text)
    try:
        return [e for block in load_nbest(f.name, n_sent) for e in block]
    finally:
        os.remove(f.name)


def test_parse_moses_line():
    e = parse_line(MOSES_LINES.splitlines()[0], "<nbest>", 1)
    assert e.sent_id == 0 and e.hyp == "un chien ."
    assert e.feature("LM0") == [-12.3]
    assert e.feature("TranslationModel0") == [-1, -2.5, -0.25, -3]
    assert e.score == -4.1 and e.extra == []
    assert parse_line(MOSES_LINES.splitlines()[2], "<nbest>", 3).extra == ["0-0 1-1 2-2"]


def test_round_trip_file(tmp_path):
    path = _write(tmp_path, MOSES_LINES)
    entries = [e for b in load_nbest(path, 2) for e in b]
    buf = io.StringIO()
    write_nbest(entries, buf)
    assert buf.getvalue().count("\n") == 3
    again = [e for b in load_nbest(_write(tmp_path, buf.getvalue(), "again.nbest"), 2) for e in b]
    assert again == entries
    # writing is canonical: a second round trip is byte-identical
    buf2 = io.StringIO()
    write_nbest(again, buf2)
    assert buf2.getvalue() == buf.getvalue()


def test_blocks_one_per_sentence(tmp_path):
    path = _write(tmp_path, MOSES_LINES)
    blocks = load_nbest(path, 2)
    assert [len(b) for b in blocks] == [2, 1]
    assert [b[0].sent_id for b in blocks] == [0, 1]


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("0 ||| a b ||| LM0= -1\n", 1, "found 3 field"),
        ("0 ||| a b ||| LM0= -1 ||| high\n", 1, "total score 'high'"),
        ("0 ||| a b ||| LM0= -1 ||| nan\n", 1, "total score 'nan'"),
        ("0 ||| a b ||| LM0= x ||| -1\n", 1, "non-numeric"),
        ("0 ||| a b ||| -3 LM0= -1 ||| -1\n", 1, "before any 'Name=' label"),
        ("0 ||| a b ||| LM0= ||| -1\n", 1, "LM0= has no value"),
        ("0 ||| a b ||| LM0= TM0= -1 ||| -1\n", 1, "LM0= has no value"),
        ("0 |||    ||| LM0= -1 ||| -1\n", 1, "empty hypothesis"),
        ("x ||| a ||| LM0= -1 ||| -1\n", 1, "sentence id 'x' is not an integer"),
        ("-1 ||| a ||| LM0= -1 ||| -1\n", 1, "negative"),
        ("0 ||| a ||| LM0= -1 ||| -1\n1 ||| a ||| LM0= -1 ||| -1\n0 ||| b ||| LM0= -1 ||| -1\n", 3,
         "non-decreasing"),
        ("0 ||| a ||| LM0= -1 ||| -1\n5 ||| b ||| LM0= -1 ||| -1\n", 2, "out of range"),
        ("0 ||| a ||| LM0= -1 ||| -1\n\n1 ||| b ||| LM0= -1 ||| -1\n", 2, "blank line"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, message):
    path = _write(tmp_path, text, "bad.nbest")
    with pytest.raises(NbestFormatError) as err:
        load_nbest(path, num_sentences=3)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert message in str(err.value)
    assert err.value.lineno == line


def test_missing_sentence_in_the_middle(tmp_path):
    path = _write(tmp_path, "0 ||| a ||| F= 1 ||| 1\n2 ||| b ||| F= 1 ||| 1\n")
    with pytest.raises(NbestFormatError, match=r":2: sentence 1 has no hypothesis"):
        load_nbest(path, 3)


def test_missing_sentences_at_the_end(tmp_path):
    """A list shorter than the source (e.g. a truncated file) is not silently accepted."""
    path = _write(tmp_path, "0 ||| a ||| F= 1 ||| 1\n1 ||| b ||| F= 1 ||| 1\n")
    with pytest.raises(NbestFormatError, match=r"source has 4 sentences: sentence 2 has no"):
        load_nbest(path, 4)


def test_ids_beyond_source_length(tmp_path):
    path = _write(tmp_path, "0 ||| a ||| F= 1 ||| 1\n1 ||| b ||| F= 1 ||| 1\n")
    with pytest.raises(NbestFormatError, match=r":2: sentence id 1 out of range.*1 sentence"):
        load_nbest(path, 1)


def test_empty_file(tmp_path):
    path = _write(tmp_path, "")
    with pytest.raises(NbestFormatError, match="sentence 0 has no hypothesis"):
        load_nbest(path, 2)


def test_writer_refuses_empty_hypothesis():
    with pytest.raises(ValueError, match="empty hypothesis"):
        format_entry(NbestEntry(0, "  ", [], 0.0))


def test_features_without_spaces_around_separator():
    e = parse_line("3|||a  b|||LM0= -1.5e-3|||2", "<nbest>", 1)
    assert (e.sent_id, e.hyp, e.feature("LM0"), e.score) == (3, "a b", [-0.0015], 2.0)
    assert parse_features("") == []


# ------------------------------------------------------------ property-based tests

_word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
                           blacklist_characters="|"),
    min_size=1, max_size=6,
)
_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
_feature = st.tuples(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True),
    st.lists(_finite, min_size=1, max_size=4),
)


@st.composite
def nbest_lists(draw):
    n_sent = draw(st.integers(1, 5))
    entries = []
    for sid in range(n_sent):
        for _ in range(draw(st.integers(1, 4))):
            words = draw(st.lists(_word, min_size=1, max_size=6))
            feats = draw(st.lists(_feature, max_size=4, unique_by=lambda f: f[0]))
            entries.append(NbestEntry(sid, " ".join(words), [(n, list(v)) for n, v in feats],
                                      draw(_finite)))
    return n_sent, entries


@settings(max_examples=100, deadline=None)
@given(nbest_lists())
def test_property_write_then_read_is_identity(data):
    n_sent, entries = data
    buf = io.StringIO()
    write_nbest(entries, buf)
    assert _read(buf.getvalue(), n_sent) == entries


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_property_reader_never_crashes_unexpectedly(text):
    """Any input either parses into valid entries or raises NbestFormatError."""
    try:
        entries = _read(text, 10)
    except NbestFormatError as e:
        assert str(e).startswith(e.path + ":")
        return
    for e in entries:
        assert e.hyp.strip() and 0 <= e.sent_id < 10 and math.isfinite(e.score)


@settings(max_examples=100, deadline=None)
@given(nbest_lists(), st.data())
def test_property_corrupted_line_is_reported_at_its_line(data, draw):
    n_sent, entries = data
    lines = [format_entry(e) for e in entries]
    k = draw.draw(st.integers(0, len(lines) - 1))
    corruption = draw.draw(st.sampled_from(["drop_field", "bad_score", "empty_hyp"]))
    fields = lines[k].split(" ||| ")
    if corruption == "drop_field":
        fields = fields[:3]
    elif corruption == "bad_score":
        fields[3] = "score?"
    else:
        fields[1] = " "
    lines[k] = " ||| ".join(fields)
    with pytest.raises(NbestFormatError) as err:
        _read("\n".join(lines) + "\n", n_sent)
    assert err.value.lineno == k + 1
