"""Time `build.py build` (publish.build) for 1,000 / 10,000 / 100,000 applications in all.

    python bench/bench_build.py [SIZES...] [--no-pdf] [--no-git] [--keep DIR] [--profile FILE]

Each size N is a sample tree with N // 3 applications a year for 3 years (jinqiu.sample.generate),
committed to a fresh git repository (the reviewer registry in its own commit first, then the rest),
so that verify finds every approval's commit and checks its detached TEST-key signature; --no-git
builds from a plain directory instead (verify then warns once per approved file and every status
is "filed"). The figures are publish.build's own stage timings:

  load+check  validate (load, schema, rules)       verify  statuses from verified approvals
  stats       statistics.compute_all                render  the site's Markdown pages
  mkdocs      mkdocs build                         scan    privacy scan of site/
  site        render + mkdocs + scan (what the issue bounds: ≤ 2× from 1,000 to 100,000)
  forms       HTML forms and pages per second      pdf     Chromium printing (unless --no-pdf)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinqiu import privacy, publish, sample  # noqa: E402

FINDINGS: list = []
SCAN = privacy.scan


def scan_and_go_on(site, values):
    """privacy.scan, unchanged and fully timed; its findings are kept and printed, not fatal, so the
    forms are timed too. On generated data they are names that are also everyday words of the site
    (a student named 余天 inside 剩余天数); each is printed with its context to be checked."""
    needles = privacy.Needles(values)
    found = SCAN(site, needles)
    for f in found:
        text = privacy.normalize(privacy.read_text(Path(f.path)))
        hit = needles.find(text)
        where = f"{hit[1]!r} in {text[max(0, hit[0] - 12):hit[0] + 12]!r}" if hit else f.what
        FINDINGS.append(f"{Path(f.path).relative_to(site)}:{f.line}: {where}")
    return []


def git(repo: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@jinqiu.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@jinqiu.invalid",
               GIT_AUTHOR_DATE="2011-07-01T09:00:00+08:00", GIT_COMMITTER_DATE="2011-07-01T09:00:00+08:00")
    subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def make_tree(root: Path, n: int, use_git: bool) -> Path:
    data = root / "data"
    if (data / "units.yaml").is_file() and (root / ".git").is_dir() == use_git:
        return data  # --keep: reuse the tree made by an earlier run
    sample.generate(data, applications_per_year=max(1, n // 3))
    if use_git:
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "data/reviewers.yaml")
        git(root, "commit", "-q", "-m", "Reviewer registry")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "Sample data")
    return data


def pages_in(htmls) -> int:
    return sum(h.read_text(encoding="utf-8").count('<section class="page') for h in htmls)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 100000])
    ap.add_argument("--no-pdf", action="store_true", help="HTML forms only")
    ap.add_argument("--no-git", action="store_true", help="build from a plain directory, not a git repository")
    ap.add_argument("--keep", type=Path, help="build under DIR/N and keep it; a later run reuses the tree")
    ap.add_argument("--profile", type=Path, help="write cProfile stats of the build (last size) to this file")
    args = ap.parse_args(argv)
    publish.privacy.scan = scan_and_go_on
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; git: {not args.no_git}; pdf: {not args.no_pdf}")
    cols = ("apps", "files", "gen", "load+check", "verify", "stats", "render", "mkdocs", "scan", "site",
            "forms", "pages", "pages/s", "pdf", "verified")
    print(" ".join(f"{c:>10}" for c in cols), flush=True)
    for n in args.sizes:
        ctx = tempfile.TemporaryDirectory(prefix="jinqiu-bench-") if args.keep is None else None
        root = Path(ctx.name) if ctx else args.keep / str(n)
        root.mkdir(parents=True, exist_ok=True)
        try:
            t = time.perf_counter()
            data = make_tree(root, n, not args.no_git)
            gen = time.perf_counter() - t
            opts = publish.Options(data=data, out=root / "out", today="2011-08-20", pdf=not args.no_pdf)
            FINDINGS.clear()
            prof = cProfile.Profile() if args.profile else None
            if prof:
                prof.enable()
            result = publish.build(opts)
            if prof:
                prof.disable()
                prof.dump_stats(args.profile)
            assert result.ok, (result.problems[:3], result.findings[:3])
            tm = result.timings
            pages = pages_in(result.forms)
            site = tm["render"] + tm["mkdocs"] + tm["scan"]
            verified = sum(1 for st in result.statuses.values() if st.proofs) if hasattr(result, "statuses") else -1
            row = (n, sum(1 for _ in data.rglob("*.yaml")), gen, tm["load"], tm.get("verify", float("nan")),
                   tm.get("stats", tm.get("derive", float("nan"))), tm["render"], tm["mkdocs"], tm["scan"], site,
                   tm["forms_html"], pages, pages / tm["forms_html"], tm.get("forms_pdf", float("nan")), verified)
            print(" ".join(f"{v:>10.2f}" if isinstance(v, float) else f"{v:>10}" for v in row), flush=True)
            for f in FINDINGS:
                print(f"    scanner finding (not fatal in the bench): {f}", flush=True)
        finally:
            if ctx:
                ctx.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
