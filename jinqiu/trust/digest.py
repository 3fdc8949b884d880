"""The digest an approval signs: SHA-256 of the record's content without its `approvals`
(and without the payout record `aid.paid_on`, `paid_by`, `paid_signature`, made after the approvals
and signed on its own).

Canonical form: JSON with sorted keys, UTF-8 (ensure_ascii=False), no spaces, every Decimal as its
plain text with trailing zeros removed (3000, 3000.0 and 3000.00 are the same amount, so
reformatting a file never makes an approval stale; changing a value always does).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

PREFIX = "sha256:"
PAYMENT_FIELDS = {"paid_on", "paid_by", "paid_signature"}  # the payout record, signed on its own


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
    if isinstance(body.get("aid"), dict) and PAYMENT_FIELDS & set(body["aid"]):
        # the payout is recorded after the last approval: recording it makes nothing stale
        body["aid"] = {k: v for k, v in body["aid"].items() if k not in PAYMENT_FIELDS}
    return json.dumps(_plain(body), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def of(data: dict) -> str:
    """`sha256:<hex>` of the record's content without its approvals."""
    return PREFIX + hashlib.sha256(canonical(data)).hexdigest()
