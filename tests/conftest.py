import shutil
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
