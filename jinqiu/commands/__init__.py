"""One module per command of build.py."""
