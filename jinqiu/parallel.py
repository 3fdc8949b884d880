"""Run a function over many items on every core, without sending the items to the workers."""

from __future__ import annotations

import multiprocessing
import os

_SHARED = None  # (function, items) for the workers, which inherit it when forked instead of unpickling it


def fork_map(fn, items: list, min_items: int = 2000, chunk: int | None = None):
    """[fn(x) for x in items] on every core: the workers are forked after the items exist, so they
    read them from the memory they share with this process, and only the (small) results are sent
    back. Serial below min_items or on one core; None when no processes can be had.
    chunk: items per task (default: about four tasks a core); 1 for items of very unequal cost."""
    global _SHARED
    jobs = os.cpu_count() or 1
    if jobs == 1 or len(items) < min_items or multiprocessing.current_process().daemon:  # a pool's worker has no children
        return [fn(x) for x in items]
    size = chunk or max(200, len(items) // (jobs * 4))
    spans = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    _SHARED = (fn, items)
    try:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(spans))) as pool:
            parts = pool.map(_span, spans, chunksize=1)
    except OSError:
        return None
    finally:
        _SHARED = None
    return [x for part in parts for x in part]


def _span(span):
    fn, items = _SHARED
    return [fn(items[i]) for i in range(*span)]
