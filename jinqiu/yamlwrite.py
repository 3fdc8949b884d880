"""Write records as YAML in one canonical form: keys in schema order, risky text quoted."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

import yaml

from . import layout


class _Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper, value: Decimal):
    text = format(value, "f")
    tag = "tag:yaml.org,2002:int" if "." not in text else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, text)


def _str(dumper, value: str):
    # Multi-line text as a literal block; everything else lets PyYAML quote what a YAML 1.1
    # reader would otherwise turn into a number, date, boolean or null (0411…, 2011-08-01, no).
    style = "|" if "\n" in value else None
    node = dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)
    if style is None and _needs_quotes(value):
        node.style = '"'
    return node


_RESOLVER = yaml.resolver.Resolver()


@lru_cache(maxsize=65536)
def _needs_quotes(value: str) -> bool:
    """Digits, dates and other text a YAML 1.1 reader would not keep as a string."""
    resolved = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))
    return resolved != "tag:yaml.org,2002:str" or value[:1].isdigit()


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(str, _str)

# libyaml's emitter writes the same text about four times faster, except that it escapes NEL
# (U+0085) and characters outside the Basic Multilingual Plane (rare CJK characters in names,
# emoji) where the Python emitter writes them as they are; records holding such text use the
# Python emitter, so the canonical form is one and the same (tests/test_fmt.py compares both).
try:
    class _FastDumper(yaml.CSafeDumper):
        pass

    _FastDumper.add_representer(Decimal, _decimal)
    _FastDumper.add_representer(str, _str)
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _FastDumper = None

_SLOW_TEXT = re.compile("[\x85\U00010000-\U0010ffff]")


def _fast_ok(value) -> bool:
    if isinstance(value, str):
        return _SLOW_TEXT.search(value) is None
    if isinstance(value, dict):
        return all(_fast_ok(k) and _fast_ok(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_fast_ok(v) for v in value)
    return True


def ordered(value, node: dict, root: dict):
    """A copy of value with mapping keys in the order the schema lists them (others after)."""
    node = layout._resolve(node, root) if node else {}
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties") if isinstance(node.get("additionalProperties"), dict) else {}
        keys = [k for k in props if k in value] + sorted(k for k in value if k not in props)
        return {k: ordered(value[k], props.get(k, extra), root) for k in keys}
    if isinstance(value, list):
        return [ordered(v, node.get("items", {}), root) for v in value]
    return value


def dump(record: dict, kind: str, *, fast: bool = True) -> str:
    """The canonical YAML text of a record of the given kind."""
    root = layout.schema(kind)
    value = ordered(record, root, root)
    fast = fast and _FastDumper is not None and _fast_ok(value)
    return yaml.dump(
        value,
        Dumper=_FastDumper if fast else _Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
        indent=2,
    )
