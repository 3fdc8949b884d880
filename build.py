#!/usr/bin/env python3
"""Jinqiu's entry point: `python build.py [COMMAND] [OPTIONS]`; `python build.py --help` lists the commands."""

import sys

from jinqiu.cli import main

if __name__ == "__main__":
    sys.exit(main())
