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

HERE = Path(__file__).resolve().parent

from jinqiu.publish import pipeline as publish, privacy  # noqa: E402
from jinqiu.sample import generate as sample

FINDINGS: list = []
SCAN = privacy.scan


def scan_and_go_on(site, values):
    """privacy.scan, unchanged and fully timed; its findings are kept and printed, not fatal, so the
    forms are timed too. On generated data they are names that are also everyday words of the site
    (a student named 余天 inside 剩余天数); each is printed with its context to be checked."""
    found = SCAN(site, values)
    needles = (values if isinstance(values, privacy.Needles) else getattr(values, "needles", None)
               or privacy.Needles(values)) if found else None
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


# ---------------------------------------------------------------- --one-change: the table

ONE_CHANGE_ROWS = [
    ("cold", "cold build, no PDF", "≤ 45 s at 100,000"),
    ("edit", "rebuild after one edited application (one commit)", "≤ 8 s at 100,000"),
    ("approved", "rebuild after one signed approval commit", "≤ 8 s at 100,000"),
    ("approve", "`approve` of one application", "≤ 3 s at 100,000"),
    ("rss", "peak RSS of the build, MB", "≤ 500 MB at 100,000"),
    ("pdf", "with PDFs: rebuild after one change", "≤ 4 s at 10,000"),
]


def child_build(args) -> int:
    """A child: one build of args.root's data into args.root/<out>, its figures as one JSON line."""
    import json

    data, out = args.root / "repo" / "data", args.root / args.out
    t = time.perf_counter()
    result = publish.build(publish.Options(data=data, out=out, today="2011-08-20", pdf=not args.no_pdf))
    total = time.perf_counter() - t
    print(json.dumps({"seconds": total, "ok": result.ok, "records": list(result.records),
                      "timings": {k: v for k, v in result.timings.items() if isinstance(v, float)},
                      "problems": len(result.problems)}, ensure_ascii=False), flush=True)
    return 0


def _timed(cmd, env, cwd=None) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB of the process and the children it waited for, its stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # the build and the workers it waited for (not Chromium)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(map(str, cmd[:4]))} failed ({proc.returncode}):\n{err.read().decode()[-3000:]}")
        return seconds, usage.ru_maxrss // 1024, out.read().decode()


def _git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@jinqiu.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@jinqiu.invalid",
               GIT_AUTHOR_DATE="2011-08-18T10:00:00+08:00", GIT_COMMITTER_DATE="2011-08-18T10:00:00+08:00")
    return subprocess.run(["git", "-C", str(repo), "-c", "commit.gpgsign=false", *args], env=env, check=True,
                          capture_output=True, text=True).stdout


def one_change(n: int, root: Path, pdf: bool, log) -> dict:
    """Cold build, then one edited application (committed) and a rebuild, then `approve` of one
    application (a signed commit) and a rebuild; each in a fresh process. {row key: figure}."""
    import json
    import re

    sys.path.insert(0, str(HERE))
    from city import make_city

    data = root / "repo" / "data"
    if not (data / "units.yaml").is_file():
        make_city(root, n, log=lambda m: log(f"  {n}: {m}"))
    caches = root.parent / f"{root.name}-cache"
    shutil.rmtree(caches, ignore_errors=True)
    shutil.rmtree(root / "repo" / ".git" / "jinqiu-cache", ignore_errors=True)
    _git(root / "repo", "reset", "-q", "--hard")
    _git(root / "repo", "clean", "-fdq")
    env = dict(os.environ, XDG_CACHE_HOME=str(caches))
    base = [sys.executable, __file__, "--child-build", "--root", str(root), "--out", "out-pdf" if pdf else "out"]
    base += [] if pdf else ["--no-pdf"]
    got, rss = {}, 0

    def build(name):
        nonlocal rss
        seconds, peak, out = _timed(base, env)
        doc = json.loads(out.strip().splitlines()[-1])
        rss = max(rss, peak)
        log(f"  {n}{' PDF' if pdf else ''} {name}: {seconds:.1f} s, {peak} MB ({doc['records'][0] if doc['records'] else 'skipped'}, "
            f"read {doc['records'][1] if doc['records'] else 0}); " + " ".join(f"{k} {v:.2f}" for k, v in doc["timings"].items()))
        return seconds

    got["cold"] = build("cold")
    apps = sorted((data / "applications" / "2011").rglob("*.yaml"))
    target = apps[len(apps) // 2]
    text = target.read_text(encoding="utf-8")
    target.write_text(re.sub(r"(?m)^  major: (.*)$", r"  major: \1（调整）", text, count=1), encoding="utf-8")
    _git(root / "repo", "commit", "-qam", "改正一份申请的专业")
    got["edit"] = build("one edited application")
    pending = [p for p in apps if p != target and "approvals: []" in p.read_text(encoding="utf-8")]
    for path in pending[len(pending) // 2:] + pending[:len(pending) // 2]:
        unit = path.parent.name
        key = root / "keys" / f"r-{unit}"
        if not key.is_file():
            continue
        signing = dict(env, GIT_CONFIG_COUNT="4", GIT_CONFIG_KEY_0="user.signingkey", GIT_CONFIG_VALUE_0=str(key),
                       GIT_CONFIG_KEY_1="gpg.format", GIT_CONFIG_VALUE_1="ssh", GIT_CONFIG_KEY_2="user.name",
                       GIT_CONFIG_VALUE_2="bench", GIT_CONFIG_KEY_3="user.email", GIT_CONFIG_VALUE_3="bench@jinqiu.invalid",
                       GIT_AUTHOR_DATE="2011-08-19T10:00:00+08:00", GIT_COMMITTER_DATE="2011-08-19T10:00:00+08:00")
        cmd = [sys.executable, str(HERE.parent / "build.py"), "approve", "--data", str(data), str(path),
               "--opinion", "情况属实，同意上报", "--date", "2011-08-19"]
        t = time.perf_counter()
        proc = subprocess.run(cmd, env=signing, capture_output=True, text=True)
        if proc.returncode == 0:
            got["approve"] = time.perf_counter() - t
            log(f"  {n} approve {path.relative_to(data)}: {got['approve']:.1f} s")
            break
    got["approved"] = build("one signed approval commit")
    got["rss"] = rss
    return got


def print_table(sizes, results, pdf_result) -> None:
    heads = [f"{n:,}" for n in sizes]
    print(f"\n| at N applications | {' | '.join(heads)} | target |")
    print(f"|---|{'---|' * len(sizes)}---|")
    for key, label, target in ONE_CHANGE_ROWS:
        cells = []
        for n in sizes:
            if key == "pdf":
                v = pdf_result.get(n)
            else:
                v = results.get(n, {}).get(key)
            cells.append("–" if v is None else (f"{v:.0f}" if key == "rss" else f"{v:.1f} s"))
        print(f"| {label} | {' | '.join(cells)} | {target} |")


def main_one_change(args) -> int:
    root = args.keep or Path(tempfile.mkdtemp(prefix="jinqiu-bench-"))
    log = lambda m: print(m, flush=True)  # noqa: E731
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores; a city: sample signed "
          "with its own keys, root pinned (git config jinqiu.rootKey), signed history (bench/city.py)", flush=True)
    results, pdfs = {}, {}
    for n in args.sizes:
        results[n] = one_change(n, root / f"city-{n}", pdf=False, log=log)
        if n <= args.pdf_up_to:
            pdfs[n] = one_change(n, root / f"city-{n}", pdf=True, log=log)["edit"]
    print_table(args.sizes, results, pdfs)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


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
    ap.add_argument("--one-change", action="store_true",
                    help="the issue's table: cold build, rebuild after one edit and after one signed approval, approve, "
                         "peak RSS, each size a city (bench/city.py) kept under --keep; with PDFs too up to --pdf-up-to")
    ap.add_argument("--pdf-up-to", type=int, default=10000, metavar="N",
                    help="with --one-change: also the rebuild with PDFs for sizes up to N (default 10000)")
    ap.add_argument("--child-build", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default="out", help=argparse.SUPPRESS)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one size, no header
    ap.add_argument("--root", type=Path, help=argparse.SUPPRESS)  # the child's tree
    ap.add_argument("--warm-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.sizes = args.sizes or [int(x) for x in args.size_list.split(",") if x.strip()]
    if args.child_build:
        return child_build(args)
    if args.one_change:
        return main_one_change(args)
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
