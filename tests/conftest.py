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
