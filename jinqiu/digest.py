"""The digest an approval signs: SHA-256 of the record's content without its `approvals`
(and without `aid.paid_on`, which is recorded after the approvals).

Canonical form: JSON with sorted keys, UTF-8 (ensure_ascii=False), no spaces, every Decimal as its
plain text with trailing zeros removed (3000, 3000.0 and 3000.00 are the same amount, so
reformatting a file never makes an approval stale; changing a value always does).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

PREFIX = "sha256:"


def _plain(value):
    if isinstance(value, Decimal):
        return {"$decimal": format(value.normalize(), "f")}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical(data: dict) -> bytes:
    """The canonical bytes of a record without its approvals."""
    body = {k: v for k, v in data.items() if k != "approvals"}
    if isinstance(body.get("aid"), dict) and "paid_on" in body["aid"]:
        # the payout date is written after the last approval: recording it makes nothing stale
        body["aid"] = {k: v for k, v in body["aid"].items() if k != "paid_on"}
    return json.dumps(_plain(body), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def of(data: dict) -> str:
    """`sha256:<hex>` of the record's content without its approvals."""
    return PREFIX + hashlib.sha256(canonical(data)).hexdigest()
