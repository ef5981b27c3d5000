"""WMT'14: the official newstest2014 SGML, the paper-scale pipeline (its dry run, and
its real code path on small local stand-ins for the downloads), and newstest2014 as an
extra test set for a prepared data directory."""
import gzip
import re
import shutil
import tarfile

import pytest

from conftest import MULTI30K, WMT14 as WMT

from sutskever_plugin.data import prepare
from sutskever_plugin.data.sgml import SgmlError, parse_sgml, parse_sgml_pair
from sutskever_plugin.data.textio import DataPrepError
from sutskever_plugin.data.wmt14 import prepare_newstest2014, prepare_wmt14_paper

# the official files, cut after their 12th document (tests/data/README.md)
SRC = WMT / "newstest2014-fren-src.en.sgm"
REF = WMT / "newstest2014-fren-ref.fr.sgm"
SEGMENTS = 248


def lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


# ----------------------------------------------------------------------------- SGML


def _regex_segments(path):
    """Independent reading of the file: (docid, segid, text) of every <seg> line."""
    out, doc = [], None
    for line in lines(path):
        m = re.match(r'<doc [^>]*docid="([^"]+)"', line)
        if m:
            doc = m.group(1)
        m = re.match(r'<seg id="([^"]+)">(.*)</seg>$', line)
        if m:
            out.append((doc, m.group(1), m.group(2)))
    return out


def test_parse_newstest2014_keeps_ids_and_order():
    src, ref = parse_sgml_pair(str(SRC), str(REF))
    assert len(src) == len(ref) == SEGMENTS
    assert [(s.docid, s.segid) for s in src] == [(r.docid, r.segid) for r in ref]
    assert len({s.docid for s in src}) == 12
    assert (src[0].docid, src[0].segid, src[0].text) == ("1009-lemondefr", "1", "Spectacular Wingsuit Jump Over Bogota")
    assert ref[0].text == 'Spectaculaire saut en "wingsuit" au-dessus de Bogota'
    assert (src[-1].docid, src[-1].segid) == ("1130-radio-canada.ca", "14")
    assert src[-1].text == ("Meanwhile, four hotel projects totaling almost 600 rooms will be "
                            "implemented in the next two years.")
    assert ref[-1].text.startswith("Entre-temps, quatre projets hôteliers")
    for path, segs in ((SRC, src), (REF, ref)):
        assert [(s.docid, s.segid, s.text) for s in segs] == _regex_segments(path)
        assert lines(path)[segs[0].line - 1].startswith('<seg id="1">')


BAD_SGML = {
    "unclosed <seg>": (3, '<seg id="2">no end tag\n'),
    "without an id attribute": (3, "<seg>no id</seg>\n"),
    "duplicate <seg": (4, '<seg id="1">again</seg>\n'),
    "unexpected line": (3, "stray text\n"),
    "outside any <doc>": (5, '<seg id="3">after the doc</seg>\n'),
    "without a docid": (2, '<doc genre="news">\n'),
}


@pytest.mark.parametrize("what", sorted(BAD_SGML))
def test_malformed_sgml_names_file_and_line(tmp_path, what):
    good = ['<srcset setid="t" srclang="any">\n', '<doc docid="d1" genre="news">\n',
            '<seg id="1">One.</seg>\n', "</doc>\n", "</srcset>\n"]
    lineno, bad = BAD_SGML[what]
    text = good[: lineno - 1] + [bad] + good[lineno - 1:]
    if what == "without a docid":
        text = good[:1] + [bad] + good[2:]
    path = tmp_path / "bad.sgm"
    path.write_text("".join(text), encoding="utf-8")
    with pytest.raises(SgmlError, match=re.escape(f"{path}:{lineno}: ") + ".*" + re.escape(what)):
        parse_sgml(str(path))


def test_unclosed_doc_and_mismatched_pair(tmp_path):
    a = tmp_path / "a.sgm"
    a.write_text('<srcset>\n<doc docid="d1">\n<seg id="1">x</seg>\n</srcset>\n', encoding="utf-8")
    with pytest.raises(SgmlError, match=re.escape(f"{a}:4: set closed while <doc> from line 2")):
        parse_sgml(str(a))
    a.write_text('<doc docid="d1">\n<seg id="1">x</seg>\n', encoding="utf-8")
    with pytest.raises(SgmlError, match=r"opened at line 1 is never closed"):
        parse_sgml(str(a))
    a.write_text('<doc docid="d1">\n<seg id="1">x &amp; y</seg>\n<seg id="2">z</seg>\n</doc>\n', encoding="utf-8")
    assert parse_sgml(str(a))[0].text == "x & y"
    # newstest2014 has bare "&"s (e.g. "Standard & Poor's", after the slice's 12 documents)
    amp = tmp_path / "amp.sgm"
    amp.write_text('<doc docid="d1">\n<seg id="1">Standard & Poor\'s</seg>\n</doc>\n', encoding="utf-8")
    assert parse_sgml(str(amp))[0].text == "Standard & Poor's"  # a bare "&" stays as it is
    b = tmp_path / "b.sgm"
    b.write_text('<doc docid="d1">\n<seg id="2">z</seg>\n<seg id="1">x</seg>\n</doc>\n', encoding="utf-8")
    with pytest.raises(SgmlError, match=re.escape(f"{a}:2 is d1/1 but {b}:2 is d1/2")):
        parse_sgml_pair(str(a), str(b))


# ------------------------------------------------------------------ paper pipeline


def test_paper_dry_run_prints_every_step(tmp_path, capsys):
    out = tmp_path / "wmt14"
    assert prepare.main(["--dataset", "wmt14", "--scale", "paper", "--out", str(out), "--dry-run",
                         "--workers", "16"]) == 0
    text = capsys.readouterr().out
    for url in ("http://www-lium.univ-lemans.fr/~schwenk/cslm_joint_paper/data/bitexts.tgz",
                "http://www.statmt.org/wmt14/dev.tgz", "http://www.statmt.org/wmt14/test-full.tgz"):
        assert f"download {url} -> " in text
    assert "newstest2014-fren-src.en.sgm" in text and "newstest2014-fren-ref.fr.sgm" in text
    assert "newstest2012.en" in text and "newstest2013.fr" in text
    for split in ("train", "valid", "test"):
        assert f"tokenize {split}: sacremoses en/fr" in text
    assert (f"fairseq-preprocess --source-lang en --target-lang fr --trainpref {out}/tok/train "
            f"--validpref {out}/tok/valid --testpref {out}/tok/test --destdir {out}/bin "
            f"--nwordssrc 160000 --nwordstgt 80000 --workers 16") in text
    assert not out.exists()  # a dry run writes nothing


def test_wrong_scale_is_refused(tmp_path, capsys):
    assert prepare.main(["--dataset", "wmt14", "--scale", "small", "--out", str(tmp_path)]) == 1
    assert "--scale paper only" in capsys.readouterr().err


@pytest.fixture(scope="module")
def fake_wmt14(tmp_path_factory):
    """Small local stand-ins for the three archives, served through file:// URLs, so the
    real download -> unpack -> tokenize -> binarize path runs."""
    root = tmp_path_factory.mktemp("wmt14")
    take = {}
    for lang in ("en", "fr"):
        with gzip.open(MULTI30K / f"train.{lang}.gz", "rt", encoding="utf-8") as f:
            take[lang] = [next(f) for _ in range(500)]
    take["en"][0] = "A man &apos;s hat &amp; a dog .\n"  # Schwenk's text is Moses-escaped
    take["fr"][7] = "\n"  # an empty side: skipped
    stage = root / "stage"
    bit = stage / "bitexts.selected"
    bit.mkdir(parents=True)
    for lang in ("en", "fr"):
        with gzip.open(bit / f"nc9.{lang}.gz", "wt", encoding="utf-8") as f:
            f.writelines(take[lang][:300])
        (bit / f"crawl.{lang}").write_text("".join(take[lang][300:]), encoding="utf-8")
    (stage / "dev").mkdir()
    for name, lo in (("newstest2012", 0), ("newstest2013", 50)):
        for lang in ("en", "fr"):
            with gzip.open(MULTI30K / f"val.{lang}.gz", "rt", encoding="utf-8") as f:
                (stage / "dev" / f"{name}.{lang}").write_text("".join(f.readlines()[lo:lo + 50]), encoding="utf-8")
    (stage / "test-full").mkdir()
    for p in (SRC, REF):
        shutil.copy(p, stage / "test-full" / p.name)
    (root / "schwenk" / "data").mkdir(parents=True)
    (root / "statmt").mkdir()
    for tgz, member in ((root / "schwenk" / "data" / "bitexts.tgz", "bitexts.selected"),
                        (root / "statmt" / "dev.tgz", "dev"), (root / "statmt" / "test-full.tgz", "test-full")):
        with tarfile.open(tgz, "w:gz") as tar:
            tar.add(stage / member, arcname=member)
    out = root / "data"
    summary = prepare_wmt14_paper(str(out), workers=1, schwenk_url=(root / "schwenk").as_uri(),
                                  statmt_url=(root / "statmt").as_uri(), nwordssrc=500, nwordstgt=300,
                                  quiet=True)
    return root, out, summary


def test_paper_pipeline_on_local_archives(fake_wmt14):
    root, out, summary = fake_wmt14
    sp = summary["splits"]
    assert (sp["train"]["lines"], sp["train"]["skipped_empty_pairs"]) == (499, 1)
    assert sp["valid"]["lines"] == 100 and sp["test"]["lines"] == SEGMENTS
    # pairs in sorted file order (crawl, then nc9); Moses entities undone, then tokenized
    train_en = lines(out / "tok" / "train.en")
    assert train_en[200] == "A man 's hat & a dog ."
    assert len(lines(out / "tok" / "train.fr")) == 499
    # the dictionaries fairseq loads: 500 / 300 entries (specials included, padded to 8)
    assert summary["dictionaries"]["dict_size_en"] == 504
    assert summary["dictionaries"]["dict_size_fr"] == 304
    assert len(lines(out / "bin" / "dict.en.txt")) == 500
    assert lines(out / "raw" / "test.en")[0] == "Spectacular Wingsuit Jump Over Bogota"
    assert lines(out / "sgml" / "newstest2014.ids")[-1] == "1130-radio-canada.ca\t14"
    assert (out / "bin" / "test.en-fr.fr.bin").exists()
    again = prepare_wmt14_paper(str(out), workers=1, schwenk_url=(root / "schwenk").as_uri(),
                                statmt_url=(root / "statmt").as_uri(), nwordssrc=500, nwordstgt=300,
                                quiet=True)
    assert again["steps_run"] == []


def test_newstest2014_as_extra_test_set(fake_wmt14, tmp_path):
    _, data_dir, _ = fake_wmt14
    nt = tmp_path / "ntst14"
    assert prepare_newstest2014(str(data_dir), str(nt), sgml_dir=str(WMT))["lines"] == SEGMENTS
    # prepared exactly as that data dir's own test split (also newstest2014 here)
    assert lines(nt / "tok" / "test.en") == lines(data_dir / "tok" / "test.en")
    assert lines(nt / "tok" / "test.fr") == lines(data_dir / "tok" / "test.fr")
    assert lines(nt / "raw" / "test.fr")[0] == 'Spectaculaire saut en "wingsuit" au-dessus de Bogota'
    assert (nt / "bin" / "test.en-fr.en.bin").read_bytes() == (data_dir / "bin" / "test.en-fr.en.bin").read_bytes()


def test_offline_download_error_is_clear(tmp_path):
    with pytest.raises(DataPrepError, match=r"could not download http://127\.0\.0\.1:9/wmt14/test-full\.tgz"):
        prepare_newstest2014(str(tmp_path), str(tmp_path / "o"), statmt_url="http://127.0.0.1:9/wmt14")
