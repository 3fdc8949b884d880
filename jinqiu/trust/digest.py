"""The digest an approval signs: SHA-256 of the record's content without its `approvals`
(and without the payout record `aid.paid_on`, `paid_by`, `paid_signature`, made after the approvals
and signed on its own).

A sealed record (one with a `sealed:` block, jinqiu.records.sealed) has the key-free digest v2: every
`ENC[jq1,…]` value stands as "$sealed" and of the `sealed` block only `commit` counts, the commitment
to the salt and the clear values. Anyone computes it without a key; it changes when any value
changes (a personal one through the commitment); re-wrapping the data key to other recipients or
rotating it changes nothing, so approvals survive re-keying. A key holder checks that the commitment
opens to what they were shown (sealed.open_record). An unsealed record keeps digest v1, so every
existing approval still holds.

Canonical form: JSON with sorted keys, UTF-8 (ensure_ascii=False), no spaces, every Decimal as its
plain text with trailing zeros removed (3000, 3000.0 and 3000.00 are the same amount, so
reformatting a file never makes an approval stale; changing a value always does).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from ..records import sealed

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


def _stand_in(value):
    if sealed.is_enc(value):
        return sealed.SEALED_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _stand_in(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stand_in(v) for v in value]
    return value


def canonical(data: dict) -> bytes:
    """The canonical bytes of a record without its approvals (v2 for a sealed record)."""
    body = {k: v for k, v in data.items() if k != "approvals"}
    if sealed.is_sealed(body):
        body = _stand_in({k: v for k, v in body.items() if k != sealed.SEALED_KEY})
        body[sealed.SEALED_KEY] = {"commit": data[sealed.SEALED_KEY].get("commit")}
    if isinstance(body.get("aid"), dict) and PAYMENT_FIELDS & set(body["aid"]):
        # the payout is recorded after the last approval: recording it makes nothing stale
        body["aid"] = {k: v for k, v in body["aid"].items() if k not in PAYMENT_FIELDS}
    return json.dumps(_plain(body), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def of(data: dict) -> str:
    """`sha256:<hex>` of the record's content without its approvals."""
    return PREFIX + hashlib.sha256(canonical(data)).hexdigest()
