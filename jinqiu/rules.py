"""The rules JSON Schema cannot express. Each is one small generator whose docstring states it.

A record rule takes a Record and yields (pointer, code, message[, severity]).
A dataset rule takes the Dataset and yields (record, pointer, code, message[, severity]).
"""

from __future__ import annotations

RECORD_RULES: dict[str, list] = {}
DATASET_RULES: list = []
