"""Reader for the official WMT test-set SGML (``<srcset>``/``<refset>``, ``<doc docid=..>``,
one ``<seg id=..>`` a line; ``<p>``/``<hl>`` ignored).  Anything else is an error naming
file and line, so a damaged test set never silently shifts hypotheses against references.
"""
import re
from typing import List, NamedTuple

from .textio import DataPrepError, read_lines


class SgmlError(DataPrepError):
    pass


class Segment(NamedTuple):
    docid: str
    segid: str
    text: str
    line: int  # line number in the .sgm file (1-based)


_SET_OPEN = re.compile(r"^<(srcset|refset|tstset)\b[^>]*>$", re.I)
_SET_CLOSE = re.compile(r"^</(srcset|refset|tstset)>$", re.I)
_DOC_OPEN = re.compile(r"^<doc\b([^>]*)>$", re.I)
_DOC_CLOSE = re.compile(r"^</doc>$", re.I)
_SEG = re.compile(r"^<seg\b([^>]*)>(.*?)</seg>$", re.I | re.S)
_IGNORED = re.compile(r"^</?(p|hl)>$", re.I)
_ATTR = re.compile(r'([A-Za-z_:][-\w:.]*)\s*=\s*"([^"]*)"')
# Only the XML entities (WMT files may carry them); a bare "&" stays as it is.
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def xml_unescape(text: str, strict: bool = False) -> str:
    """Decode the XML entities; a reference to no character (``&#x110000;``, a surrogate)
    stays as it is, or raises ValueError if ``strict``."""
    def entity(m):
        name = m.group(1)
        if not name.startswith("#"):
            return _ENTITY_CHARS[name]
        code = int(name[2:], 16) if name.startswith("#x") else int(name[1:])
        if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
        if strict:
            raise ValueError(f"&{name}; is not a valid character reference")
        return m.group(0)

    return _ENTITY.sub(entity, text)


def parse_sgml(path: str) -> List[Segment]:
    """Segments of a WMT SGML file in file order, with their (docid, segid); malformed
    input (see the checks below) raises :class:`SgmlError` ("FILE:LINE: what is wrong")."""
    segments: List[Segment] = []
    doc = None  # (docid, line)
    seen_ids = set()
    set_open = None  # (tag, line) of the open <srcset>/<refset>/<tstset>
    for lineno, raw in enumerate(read_lines(path), start=1):
        line = raw.strip()
        where = f"{path}:{lineno}"
        if not line or _IGNORED.match(line):
            continue
        m = _SET_OPEN.match(line)
        if m:
            if set_open:
                raise SgmlError(f"{where}: a second <srcset>/<refset> opened before the first closed")
            set_open = (m.group(1), lineno)
            continue
        if _SET_CLOSE.match(line):
            if doc is not None:
                raise SgmlError(f"{where}: set closed while <doc> from line {doc[1]} is still open")
            set_open = None
            continue
        m = _DOC_OPEN.match(line)
        if m:
            if doc is not None:
                raise SgmlError(f"{where}: <doc> opened inside the <doc> of line {doc[1]} (missing </doc>?)")
            attrs = dict(_ATTR.findall(m.group(1)))
            if not attrs.get("docid"):
                raise SgmlError(f"{where}: <doc> without a docid attribute")
            doc = (attrs["docid"], lineno)
            seen_ids = set()
            continue
        if _DOC_CLOSE.match(line):
            if doc is None:
                raise SgmlError(f"{where}: </doc> without an open <doc>")
            doc = None
            continue
        if line.lower().startswith("<seg"):
            m = _SEG.match(line)
            if not m:
                if "</seg>" not in line.lower():
                    raise SgmlError(f"{where}: unclosed <seg> (no </seg> on the same line)")
                raise SgmlError(f"{where}: malformed <seg> line: {line[:80]!r}")
            if doc is None:
                raise SgmlError(f"{where}: <seg> outside any <doc>")
            attrs = dict(_ATTR.findall(m.group(1)))
            segid = attrs.get("id")
            if not segid:
                raise SgmlError(f"{where}: <seg> without an id attribute")
            if segid in seen_ids:
                raise SgmlError(f"{where}: duplicate <seg id=\"{segid}\"> in document {doc[0]}")
            seen_ids.add(segid)
            text = m.group(2)
            if re.search(r"</?seg\b", text, re.I):
                raise SgmlError(f"{where}: nested or repeated <seg> on one line")
            try:
                text = xml_unescape(text, strict=True)
            except ValueError as e:
                raise SgmlError(f"{where}: {e}") from None
            segments.append(Segment(doc[0], segid, text.strip(), lineno))
            continue
        raise SgmlError(f"{where}: unexpected line in SGML test set: {line[:80]!r}")
    if doc is not None:
        raise SgmlError(f"{path}: <doc docid=\"{doc[0]}\"> opened at line {doc[1]} is never closed")
    if set_open is not None:  # a file cut between two documents
        raise SgmlError(f"{path}: <{set_open[0]}> opened at line {set_open[1]} is never closed "
                        f"(truncated file?)")
    if not segments:
        raise SgmlError(f"{path}: no <seg> found; is this a WMT SGML file?")
    return segments


def parse_sgml_pair(src_path: str, ref_path: str):
    """Source and reference segments, checked to carry the same (docid, segid) order."""
    src, ref = parse_sgml(src_path), parse_sgml(ref_path)
    if len(src) != len(ref):
        raise SgmlError(
            f"segment counts differ: {src_path} has {len(src)} segments, {ref_path} has {len(ref)}"
        )
    for s, r in zip(src, ref):
        if (s.docid, s.segid) != (r.docid, r.segid):
            raise SgmlError(
                f"segment order differs: {src_path}:{s.line} is {s.docid}/{s.segid} but "
                f"{ref_path}:{r.line} is {r.docid}/{r.segid}"
            )
    return src, ref

