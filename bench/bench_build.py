"""Time the site build and the forms for 1,000 / 10,000 / 100,000 applications a year.

    python bench/bench_build.py [SIZES...]      (default 1000 10000 100000)

Site = render pages + mkdocs + privacy scan (after the data is loaded and checked); forms = HTML only.
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinqiu import forms, privacy, publish, sample, site, statistics, validate  # noqa: E402


def main(sizes):
    print(f"{'applications':>12} {'load+check':>10} {'derive':>8} {'render':>8} {'mkdocs':>8} {'scan':>8} {'site':>8} {'forms':>8} {'pages/s':>9}")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="jinqiu-bench-") as tmp:
            data, out = Path(tmp) / "data", Path(tmp) / "out"
            sample.generate(data, applications_per_year=n)
            t = time.perf_counter()
            dataset, _ = validate.run(data, "data")
            load = time.perf_counter() - t
            year = max(dataset.campaigns)
            t = time.perf_counter()
            sts = publish.statuses(dataset)
            tables = statistics.compute_all(dataset, year, sts)
            derive = time.perf_counter() - t
            t = time.perf_counter()
            view = site.public_view(dataset, year, sts, tables, f"{year}-08-20", "bench", False, 0)
            work = out / "private" / "site-build"
            site.write_pages(view, work / "docs")
            (work / "mkdocs.yml").write_bytes(site.MKDOCS_YML.read_bytes())
            render = time.perf_counter() - t
            t = time.perf_counter()
            publish.run_mkdocs(work / "mkdocs.yml", out / "site")
            mk = time.perf_counter() - t
            t = time.perf_counter()
            findings = privacy.scan(out / "site", privacy.personal_values(dataset))
            scan = time.perf_counter() - t
            assert not findings, findings[:3]
            t = time.perf_counter()
            htmls = forms.write_all(dataset, year, sts, tables, out / "private" / "forms")
            fm = time.perf_counter() - t
            pages = sum(h.read_text(encoding="utf-8").count('<section class="page') for h in htmls)
            print(f"{len(view.apps):>12} {load:>10.2f} {derive:>8.2f} {render:>8.2f} {mk:>8.2f} {scan:>8.2f} "
                  f"{render + mk + scan:>8.2f} {fm:>8.2f} {pages / fm:>9.0f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000, 100000])
