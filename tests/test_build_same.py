"""Caches and batching change how fast the build is, never what it writes: the sample built with no
cache, and built twice with the cache (the second time taking every printed page from it), give
the same site/ byte for byte, the same HTML forms, and PDF bundles with the same text."""

import subprocess
import zipfile
from pathlib import Path

from jinqiu.publish import pipeline as publish

DATA = Path(__file__).parent / "site_data" / "data"


def content(path: Path):
    """A file's bytes; for a workbook, its parts but the time it was written (zip and core.xml dates)."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): content(p) for p in sorted(root.rglob("*")) if p.is_file()}


def text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def test_cached_and_incremental_builds_write_what_an_uncached_build_writes(tmp_path):
    cache = tmp_path / "cache"
    runs = {}
    for name, use_cache in (("none", False), ("cold", True), ("warm", True)):
        opts = publish.Options(data=DATA, out=tmp_path / name, today="2011-08-20", cache=use_cache, forms_cache=cache)
        result = publish.build(opts)
        assert result.ok, (result.problems[:3], result.findings[:3])
        runs[name] = result
    assert runs["none"].printed.cache is None and runs["none"].printed.printed == 24
    assert runs["cold"].printed.printed == 24 and runs["warm"].printed.printed == 0 and runs["warm"].printed.reused == 24
    site = files(tmp_path / "none" / "site")
    assert len(site) > 20
    forms = {k: v for k, v in files(tmp_path / "none" / "private" / "forms").items() if k.endswith(".html")}
    pdfs = sorted(p.name for p in (tmp_path / "none" / "private" / "forms").glob("*.pdf"))
    assert len(forms) == len(pdfs) == 8
    for name in ("cold", "warm"):
        assert files(tmp_path / name / "site") == site, name
        got = files(tmp_path / name / "private" / "forms")
        assert {k: v for k, v in got.items() if k.endswith(".html")} == forms, name
        assert sorted(k for k in got if k.endswith(".pdf")) == pdfs
        for pdf in pdfs:
            assert text(tmp_path / name / "private" / "forms" / pdf) == text(tmp_path / "none" / "private" / "forms" / pdf), (name, pdf)


def test_forms_written_by_forked_workers_are_the_forms_written_in_one_process(tmp_path, monkeypatch):
    from jinqiu.publish import forms

    written = {}
    for name, limit in (("one", 10**9), ("forked", 1)):
        monkeypatch.setattr(forms, "PARALLEL_FORMS", limit)
        result = publish.build(publish.Options(data=DATA, out=tmp_path / name, today="2011-08-20", pdf=False, cache=False))
        assert result.ok and len(result.forms) == 8
        written[name] = files(tmp_path / name / "private" / "forms")
    assert written["forked"] == written["one"] and len(written["one"]) == 8
