"""Reading a record's values the way every rule does: a nested value or None, text that is filled
in, a date written YYYY-MM-DD. Shared by the one-record rules (rules) and the cross-record rules
(crossrules)."""

from __future__ import annotations

import re


def value_at(data, *keys):
    """data[k1][k2]…, or None as soon as a level is not a mapping or lacks the key."""
    for k in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(k)
    return data


def filled(value) -> bool:
    """The value is text and not empty."""
    return isinstance(value, str) and value != ""


_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def iso_date(value) -> str | None:
    """The value when it is a date written YYYY-MM-DD, else None: dates are compared as text, and
    2011-7-7 would sort after 2011-08-10 (the schema check already says how to write it)."""
    return value if isinstance(value, str) and _ISO_DATE.match(value) else None
