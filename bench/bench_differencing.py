"""Attack the published statistics of a generated tree by differencing, and time the suppression.

    python bench/bench_differencing.py [--sizes 10000] [--keep DIR]

For each size N: a sample tree of N applications in all (committed to git, as bench_build.py makes
it, so that the approvals verify), built without printed forms; then tests/differencing.py, written
apart from jinqiu.publish.disclosure, reads the public CSV and the union tree, writes down every
linear relation a reader knows between the figures and solves for each hidden one. Prints how many
figures are hidden, how many a reader can solve for (0 is the invariant), and the seconds
disclosure.suppress took (all families, every union) in the build.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import bench_build  # noqa: E402
import differencing  # noqa: E402

from jinqiu.publish import disclosure, pipeline as publish  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000", help="applications in all, comma-separated (default 10000)")
    ap.add_argument("--keep", type=Path, help="build under DIR/N and keep it; a later run reuses the tree")
    args = ap.parse_args(argv)
    spent = []
    real = disclosure.suppress

    def timed(*a, **k):
        t = time.perf_counter()
        try:
            return real(*a, **k)
        finally:
            spent.append(time.perf_counter() - t)

    disclosure.suppress = timed
    print(f"{'N':>8} {'hidden':>8} {'solved':>8} {'suppress s':>11}")
    for n in [int(x) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            root = (args.keep / str(n)) if args.keep else Path(tmp) / "tree"
            root.mkdir(parents=True, exist_ok=True)
            data = bench_build.make_tree(root, n, True)
            spent.clear()
            result = publish.build(publish.Options(data=data, out=root / "out-differencing", today="2011-08-20",
                                                   forms=False, cache=False))
            assert result.ok, (result.problems[:3], result.findings[:3])
            hidden, solved = differencing.attack(result.site_dir, data, 2011)
            print(f"{n:>8} {hidden:>8} {len(solved):>8} {sum(spent):>11.3f}", flush=True)
            for cell in sorted(solved)[:10]:
                print(f"    solved: {cell}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
