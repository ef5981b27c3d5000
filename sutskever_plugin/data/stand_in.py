"""A stand-in for WMT'14 En-Fr, laid out exactly as its three archives unpack, built from
the repository's ``tests/data`` (docs/paper_scale_cpu.md): the paper-scale pipeline on
data small enough to run anywhere.  Prints the test set's segment count.
"""
import argparse
import gzip
from pathlib import Path
from xml.sax.saxutils import escape

from .textio import read_lines

TEST_DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def write_sgml(path, kind, setid, lang, docs):
    """A WMT SGML file: ``docs`` is [(docid, [segment text, ...]), ...]; the text is
    XML-escaped, as in WMT's own files (the data preparation decodes it: data/sgml.py)."""
    head = (f'<srcset setid="{setid}" srclang="any">' if kind == "src"
            else f'<refset trglang="{lang}" setid="{setid}" srclang="any">')
    out = [head]
    for docid, segs in docs:
        out.append(f'<doc sysid="ref" docid="{docid}" genre="news" origlang="en">')
        out += [f'<seg id="{i}">{escape(text)}</seg>' for i, text in enumerate(segs, 1)]
        out.append("</doc>")
    out.append("</srcset>" if kind == "src" else "</refset>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def first_docs(src, dst, n):
    """The SGML file ``src`` cut after its ``n``-th document; returns its segment count."""
    lines = src.read_text(encoding="utf-8").splitlines()
    ends = [i for i, line in enumerate(lines) if line == "</doc>"]
    if not 1 <= n <= len(ends):
        raise ValueError(f"{src}: {n} documents asked for, it holds {len(ends)}")
    end = ends[n - 1]
    dst.write_text("\n".join(lines[: end + 1] + [lines[-1]]) + "\n", encoding="utf-8")
    return sum(line.startswith("<seg") for line in lines[:end])


def build(raw, train_lines=1500, test_docs=2, data=TEST_DATA):
    """Writes the stand-in under ``raw``; returns the test set's number of segments."""
    raw = Path(raw)
    bit = raw / "bitexts" / "bitexts.selected"
    bit.mkdir(parents=True, exist_ok=True)
    cut = 2 * train_lines // 3
    for lang in ("en", "fr"):
        text = list(read_lines(data / "multi30k" / f"train.{lang}.gz", train_lines))
        for name, part in (("nc9", text[:cut]), ("crawl", text[cut:])):
            with gzip.open(bit / f"{name}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("\n".join(part) + "\n")
    dev = raw / "dev" / "dev"
    dev.mkdir(parents=True, exist_ok=True)
    val = {lang: list(read_lines(data / "multi30k" / f"val.{lang}.gz", 80)) for lang in ("en", "fr")}
    for setid, lo in (("newstest2012", 0), ("newstest2013", 40)):
        for kind, lang in (("src", "en"), ("ref", "fr")):
            docs = [(f"{setid}-doc{d}", val[lang][lo + 20 * d: lo + 20 * d + 20]) for d in range(2)]
            write_sgml(dev / f"{setid}-{kind}.{lang}.sgm", kind, setid, lang, docs)
    test = raw / "test-full" / "test-full"
    test.mkdir(parents=True, exist_ok=True)
    n_test = {first_docs(data / "wmt14" / name, test / name, test_docs)
              for name in ("newstest2014-fren-src.en.sgm", "newstest2014-fren-ref.fr.sgm")}
    assert len(n_test) == 1, f"source and reference differ in segments: {n_test}"
    return n_test.pop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="the directory to lay the stand-in out in")
    print(build(p.parse_args(argv).out))


if __name__ == "__main__":
    main()
