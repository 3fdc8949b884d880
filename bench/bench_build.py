"""Time `build.py build` (publish.build) for 1,000 / 10,000 / 100,000 applications in all.

    python bench/bench_build.py [--sizes 1000,10000,100000] [--no-pdf] [--no-git] [--warm]
                                [--keep DIR] [--profile FILE]

Each build runs in a fresh process (imports, jieba's dictionary and all, as `build.py build` does);
its peak RSS is that process's ru_maxrss (os.wait4), the largest of it and the processes it waited
for (validate's worker pool; Chromium is not counted). Each size has a cache directory of its own
($XDG_CACHE_HOME), empty for the first build; --warm builds a second time in a new process with
nothing changed (the row marked "warm").

Each size N is a sample tree with N // 3 applications a year for 3 years (jinqiu.sample.generate.generate),
committed to a fresh git repository (the reviewer registry in its own commit first, then the rest),
so that verify finds every approval's commit and checks its detached TEST-key signature; --no-git
builds from a plain directory instead (verify then warns once per approved file and every status
is "filed"). The figures are publish.build's own stage timings:

  load+check  validate (load, schema, rules)       verify  statuses from verified approvals
  stats       statistics.compute_all                render  the site's Markdown pages
  mkdocs      mkdocs build                         scan    privacy scan of site/
  site        render + mkdocs + scan (what the issue bounds: ≤ 2× from 1,000 to 100,000)
  timeline    the campaign over time: the history read once and counted per day (0 when absent)
  forms       HTML forms and pages per second      pdf     Chromium printing (unless --no-pdf)
  build       the whole of publish.build           verified  applications with a verified approval
  printed     forms Chromium printed (the rest came from the cache)    rss  peak RSS, MB
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jinqiu.publish import pipeline as publish, privacy  # noqa: E402
from jinqiu.sample import generate as sample

FINDINGS: list = []
SCAN = privacy.scan


def scan_and_go_on(site, values, memo=None):
    """privacy.scan, unchanged and fully timed; its findings are kept and printed, not fatal, so the
    forms are timed too. On generated data they are names that are also everyday words of the site
    (a student named 余天 inside 剩余天数); each is printed with its context to be checked."""
    found = SCAN(site, values, memo)
    needles = privacy.Needles(values) if found else None
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


COLUMNS = ("N", "apps", "gen", "load+check", "verify", "stats", "timeline", "render", "mkdocs", "scan", "site",
           "forms", "pdf pages", "printed", "pdf", "pages/s", "build", "verified", "rss MB")


def run_one(n: int, args) -> None:
    """Generate (or reuse) the tree for size n under args.root, build it once, print one row
    (without its last column, the peak RSS, which the parent adds)."""
    publish.privacy.scan = scan_and_go_on
    root = args.root
    root.mkdir(parents=True, exist_ok=True)
    if True:
        t = time.perf_counter()
        data = make_tree(root, n, not args.no_git)
        gen = time.perf_counter() - t
        opts = publish.Options(data=data, out=root / "out", today="2011-08-20", pdf=not args.no_pdf)
        prof = cProfile.Profile() if args.profile else None
        t = time.perf_counter()
        if prof:
            prof.enable()
        result = publish.build(opts)
        if prof:
            prof.disable()
            prof.dump_stats(args.profile)
        total = time.perf_counter() - t
        assert result.ok, (result.problems[:3], result.findings[:3])
        tm = result.timings
        site = tm["render"] + tm["mkdocs"] + tm["scan"]
        verified = sum(1 for st in result.statuses.values() if st.proofs)
        printed = result.printed
        pdf = tm.get("forms_pdf", float("nan"))
        pages = printed.pages if printed else 0
        row = (f"{n}{' warm' if args.warm_run else ''}", len(result.statuses), gen, tm["load"], tm["verify"], tm["stats"],
               tm.get("timeline", 0.0), tm["render"], tm["mkdocs"], tm["scan"], site, tm.get("forms_html", float("nan")),
               pages, printed.printed if printed else 0, pdf, (printed.printed / pdf) if printed else float("nan"),
               total, verified)
        print(" ".join(f"{v:>10.2f}" if isinstance(v, float) else f"{v:>10}" for v in row), end="", flush=True)
        for f in FINDINGS:
            print(f"\n    scanner finding (not fatal in the bench): {f}", end="", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, help="sizes (also --sizes)")
    ap.add_argument("--sizes", dest="size_list", metavar="N,N,...", default="1000,10000,100000",
                    help="applications in all, comma-separated (default 1000,10000,100000)")
    ap.add_argument("--warm", action="store_true", help="build each size a second time, nothing changed")
    ap.add_argument("--no-pdf", action="store_true", help="HTML forms only")
    ap.add_argument("--no-git", action="store_true", help="build from a plain directory, not a git repository")
    ap.add_argument("--keep", type=Path, help="build under DIR/N and keep it; a later run reuses the tree")
    ap.add_argument("--profile", type=Path, help="write cProfile stats of the build to this file (one size)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one size, no header
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)  # the child's tree
    ap.add_argument("--warm-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.sizes = args.sizes or [int(x) for x in args.size_list.split(",") if x.strip()]
    if args.one:
        run_one(args.sizes[0], args)
        return 0
    if args.profile and len(args.sizes) != 1:
        ap.error("--profile takes one size")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; "
          f"git repository: {'no' if args.no_git else 'yes'}; PDF: {'no' if args.no_pdf else 'yes'}; seconds")
    print(" ".join(f"{c:>10}" for c in COLUMNS), flush=True)
    flags = [f for f, on in (("--no-pdf", args.no_pdf), ("--no-git", args.no_git)) if on]
    flags += ["--profile", str(args.profile)] if args.profile else []
    for n in args.sizes:  # each build in a fresh process, as `build.py build` runs: imports and jieba's dictionary included
        tmp = tempfile.mkdtemp(prefix="jinqiu-bench-") if args.keep is None else None
        root = Path(tmp) / "tree" if tmp else args.keep / str(n)
        caches = Path(tmp) / "cache" if tmp else args.keep / f"{n}-cache"  # outside the tree's work tree
        env = dict(os.environ, XDG_CACHE_HOME=str(caches))
        shutil.rmtree(caches, ignore_errors=True)
        shutil.rmtree(root / ".git" / "jinqiu-cache", ignore_errors=True)  # a kept tree's caches: the first build is cold
        try:
            for warm in ([False, True] if args.warm else [False]):
                cmd = [sys.executable, __file__, "--one", str(n), "--root", str(root), *flags] + (["--warm-run"] if warm else [])
                proc = subprocess.Popen(cmd, env=env)
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
                if proc.returncode:
                    return proc.returncode
                print(f" {usage.ru_maxrss / 1024:>10.0f}", flush=True)
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
