"""`python3 -m jinqiu.sample OUT_DIR [--applications N]`: write a synthetic sample data tree."""

import sys

from .generate import main

sys.exit(main())
