"""Property-based tests (hypothesis) of the two readers of outside files: the WMT SGML
reader and the Moses n-best reader.

For both: a random valid file round-trips; a random corruption of the file on disk
either still parses into valid records or raises the reader's own error naming
``file:line`` (or ``file`` for what is only seen at the end), never any other exception.
tests/test_nbest.py already fuzzes the n-best reader on text; here it is fed
bytes from files (plain and .gz): invalid UTF-8, truncated gzip streams, random byte
edits, and whole missing sentences.
"""
import gzip
import math
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sutskever_plugin.data.sgml import Segment, SgmlError, parse_sgml
from sutskever_plugin.data.textio import DataPrepError
from sutskever_plugin.data.nbest import (
    NbestEntry,
    NbestFormatError,
    format_entry,
    load_nbest,
)

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(data: bytes, suffix: str) -> str:
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    f.write(data)
    f.close()
    return f.name


def cleanup(path):
    Path(path).unlink(missing_ok=True)


# ----------------------------------------------------------------------------- SGML

# segment text: any characters but line breaks (one <seg> a line) and surrounding space
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    max_size=40,
).map(str.strip)
_id = st.from_regex(r"[A-Za-z0-9][-A-Za-z0-9_.]{0,12}", fullmatch=True)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def sgml_docs(draw):
    """[(docid, [(segid, text), ...]), ...] with unique ids per document."""
    docs = []
    for docid in draw(st.lists(_id, min_size=1, max_size=4, unique=True)):
        segids = draw(st.lists(_id, min_size=1, max_size=5, unique=True))
        docs.append((docid, [(s, draw(_text)) for s in segids]))
    return docs


def render(docs, kind="srcset", wrap_p=False) -> str:
    out = [f'<{kind} setid="fuzz" srclang="any">']
    for docid, segs in docs:
        out.append(f'<doc docid="{docid}" genre="news" origlang="en">')
        if wrap_p:
            out.append("<p>")
        out += [f'<seg id="{s}">{escape(t)}</seg>' for s, t in segs]
        if wrap_p:
            out.append("</p>")
        out.append("</doc>")
    out.append(f"</{kind}>")
    return "\n".join(out) + "\n"


@settings(max_examples=150, **SETTINGS)
@given(sgml_docs(), st.sampled_from(["srcset", "refset"]), st.booleans(), st.booleans())
def test_sgml_round_trip(docs, kind, wrap_p, crlf):
    text = render(docs, kind, wrap_p)
    if crlf:
        text = text.replace("\n", "\r\n")
    path = write(text.encode("utf-8"), ".sgm")
    try:
        segs = parse_sgml(path)
    finally:
        cleanup(path)
    assert [(s.docid, s.segid, s.text) for s in segs] == [(d, s, t) for d, ss in docs for s, t in ss]
    # line numbers point at the <seg> lines
    lines = text.replace("\r\n", "\n").split("\n")
    assert all(lines[s.line - 1].startswith(f'<seg id="{s.segid}">') for s in segs)


def _where(err: Exception, path: str, n_lines: int):
    """The error must start with "path:" or "path:LINE:" with LINE in the file."""
    msg = str(err)
    assert msg.startswith(f"{path}"), msg
    m = re.match(re.escape(path) + r":(\d+):", msg)
    if m:
        assert 1 <= int(m.group(1)) <= n_lines + 1, msg
        return int(m.group(1))
    return None


@settings(max_examples=150, **SETTINGS)
@given(sgml_docs(), st.data())
def test_sgml_damaged_line_is_reported_at_that_line(docs, data):
    lines = [l.encode("utf-8") for l in render(docs).split("\n")[:-1]]
    k = data.draw(st.sampled_from([i for i, l in enumerate(lines) if l.startswith(b"<seg")]))
    how = data.draw(st.sampled_from(["no_close", "no_id", "junk", "bad_utf8"]))
    if how == "no_close":
        lines[k], expected = lines[k].replace(b"</seg>", b""), "unclosed <seg>"
    elif how == "no_id":
        lines[k], expected = re.sub(rb' id="[^"]*"', b"", lines[k]), "<seg> without an id"
    elif how == "junk":
        lines[k], expected = b"<junk>" + lines[k], "unexpected line"
    else:
        lines[k], expected = lines[k][:4] + b"\xc3\x28" + lines[k][4:], "not valid UTF-8"
    path = write(b"".join(l + b"\n" for l in lines), ".sgm")
    try:
        with pytest.raises(DataPrepError) as err:  # SgmlError, or textio's UTF-8 error
            parse_sgml(path)
    finally:
        cleanup(path)
    assert _where(err.value, path, len(lines)) == k + 1, str(err.value)
    assert expected in str(err.value)


@settings(max_examples=150, **SETTINGS)
@given(st.lists(st.one_of(
    st.integers(0, 0x10FFFF + 1000).map(lambda n: f"&#{n};"),
    st.integers(0, 0x10FFFF + 1000).map(lambda n: f"&#x{n:x};"),
    st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&", "&nbsp;", "&#;", "&#x;"]),
    st.text(alphabet="ab <>&#;x", max_size=4)), max_size=6))
def test_sgml_entities_decode_or_name_the_line(parts):
    text = "".join(parts)
    path = write(f'<srcset setid="s" srclang="any">\n<doc docid="d">\n<seg id="1">x {text} y</seg>\n'
                 f"</doc>\n</srcset>\n".encode("utf-8"), ".sgm")
    try:
        segs = parse_sgml(path)
    except SgmlError as e:
        assert str(e).startswith(f"{path}:3: "), str(e)
        return
    finally:
        cleanup(path)
    assert len(segs) == 1 and segs[0].text.startswith("x") and segs[0].text.endswith("y")
    segs[0].text.encode("utf-8")  # a valid Unicode string (no lone surrogates)


@settings(max_examples=300, **SETTINGS)
@given(sgml_docs(), st.data())
def test_sgml_random_corruption_parses_or_names_file(docs, data):
    raw = bytearray(render(docs).encode("utf-8"))
    how = data.draw(st.sampled_from(["truncate", "flip", "insert", "delete", "drop_line", "dup_line"]))
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how in ("flip", "insert", "delete"):
        i = data.draw(st.integers(0, len(raw) - 1))
        b = data.draw(st.integers(0, 255))
        if how == "flip":
            raw[i] = b
        elif how == "insert":
            raw.insert(i, b)
        else:
            del raw[i]
    else:
        lines = bytes(raw).split(b"\n")[:-1]
        i = data.draw(st.integers(0, len(lines) - 1))
        lines = lines[:i] + lines[i + 1:] if how == "drop_line" else lines[:i + 1] + lines[i:]
        raw = bytearray(b"".join(l + b"\n" for l in lines))
    path = write(bytes(raw), ".sgm")
    try:
        segs = parse_sgml(path)
    except SgmlError as e:
        _where(e, path, raw.count(b"\n"))
        return
    except DataPrepError as e:  # textio: invalid UTF-8, named with its line
        assert "not valid UTF-8" in str(e)
        _where(e, path, raw.count(b"\n"))
        return
    finally:
        cleanup(path)
    # accepted: then it is a well-formed set of segments (a file cut between two
    # documents is refused: its </srcset> is missing)
    assert segs and all(isinstance(s, Segment) and "\n" not in s.text for s in segs)


def test_sgml_cut_between_documents_is_refused(tmp_path):
    text = render([("d1", [("1", "a")]), ("d2", [("1", "b")])])
    path = tmp_path / "cut.sgm"
    path.write_text(text[: text.index('<doc docid="d2"')], encoding="utf-8")
    with pytest.raises(SgmlError, match=rf"{re.escape(str(path))}: <srcset> opened at line 1 is never closed"):
        parse_sgml(str(path))


# ----------------------------------------------------------------------------- n-best

_word = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
                                       blacklist_characters="|"), min_size=1, max_size=6)
_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def nbest_entries(draw):
    n_sent = draw(st.integers(1, 4))
    entries = []
    for sid in range(n_sent):
        for _ in range(draw(st.integers(1, 3))):
            feats = draw(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,5}", fullmatch=True),
                                            st.lists(_finite, min_size=1, max_size=3)),
                                  max_size=3, unique_by=lambda f: f[0]))
            entries.append(NbestEntry(sid, " ".join(draw(st.lists(_word, min_size=1, max_size=5))),
                                      [(n, list(v)) for n, v in feats], draw(_finite)))
    return n_sent, entries


def encode(entries, gz: bool) -> bytes:
    raw = "".join(format_entry(e) + "\n" for e in entries).encode("utf-8")
    return gzip.compress(raw) if gz else raw


@settings(max_examples=100, **SETTINGS)
@given(nbest_entries(), st.booleans())
def test_nbest_file_round_trip(data, gz):
    n_sent, entries = data
    path = write(encode(entries, gz), ".nbest.gz" if gz else ".nbest")
    try:
        assert [e for b in load_nbest(path, n_sent) for e in b] == entries
    finally:
        cleanup(path)


def _check_nbest_error(err: NbestFormatError, path: str):
    msg = str(err)
    assert msg.startswith(f"{path}:") and err.path == path, msg
    if err.lineno is not None:
        assert msg.startswith(f"{path}:{err.lineno}: ") and err.lineno >= 1


def _nbest_error(data: bytes, suffix: str, n_sent: int) -> NbestFormatError:
    """Write data to a temporary file, read it, and return the (checked) NbestFormatError."""
    path = write(data, suffix)
    try:
        with pytest.raises(NbestFormatError) as err:
            load_nbest(path, n_sent)
    finally:
        cleanup(path)
    _check_nbest_error(err.value, path)
    return err.value


@settings(max_examples=300, **SETTINGS)
@given(nbest_entries(), st.data())
def test_nbest_random_byte_corruption_parses_or_names_file_and_line(data, draw):
    n_sent, entries = data
    raw = bytearray(encode(entries, gz=False))
    for _ in range(draw.draw(st.integers(1, 3))):
        how = draw.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        i = draw.draw(st.integers(0, max(0, len(raw) - 1)))
        b = draw.draw(st.sampled_from([0x00, 0x0A, 0x0D, 0x7C, 0x20, 0x2D, 0x80, 0xC3, 0xE9, 0xFF,
                                       draw.draw(st.integers(0, 255))]))
        if how == "flip" and raw:
            raw[i] = b
        elif how == "insert":
            raw.insert(i, b)
        elif how == "delete" and raw:
            del raw[i]
        elif how == "truncate":
            raw = raw[:i]
    path = write(bytes(raw), ".nbest")
    try:
        blocks = load_nbest(path, n_sent)
    except NbestFormatError as e:
        _check_nbest_error(e, path)
        return
    finally:
        cleanup(path)
    # accepted: one block per sentence, valid entries
    assert [b[0].sent_id for b in blocks] == list(range(n_sent))
    for b in blocks:
        for e in b:
            assert e.hyp.strip() and math.isfinite(e.score)


@settings(max_examples=100, **SETTINGS)
@given(nbest_entries(), st.data())
def test_nbest_invalid_utf8_and_truncated_gzip_name_file_and_line(data, draw):
    n_sent, entries = data
    lines = [format_entry(e).encode("utf-8") for e in entries]
    k = draw.draw(st.integers(0, len(lines) - 1))
    bad = lines[:k] + [lines[k].replace(b" ||| ", b" \xe9 ||| ", 1)] + lines[k + 1:]
    err = _nbest_error(b"".join(l + b"\n" for l in bad), ".nbest", n_sent)
    assert err.lineno == k + 1 and "not valid UTF-8 (byte 0xe9" in str(err)

    gz = encode(entries, gz=True)
    cut = draw.draw(st.integers(0, len(gz) - 1))
    _nbest_error(gz[:cut], ".nbest.gz", n_sent)


@settings(max_examples=100, **SETTINGS)
@given(nbest_entries(), st.data())
def test_nbest_missing_sentence_is_named(data, draw):
    n_sent, entries = data
    assume(n_sent >= 2)
    gone = draw.draw(st.integers(0, n_sent - 1))
    kept = [e for e in entries if e.sent_id != gone]
    err = _nbest_error(encode(kept, gz=False), ".nbest", n_sent)
    assert f"sentence {gone} has no hypothesis" in str(err)
    if gone < n_sent - 1:  # seen at the line where the ids jump over it
        first_after = next(i for i, e in enumerate(kept) if e.sent_id > gone)
        assert err.lineno == first_after + 1
