"""Write records as YAML in one canonical form: keys in schema order, risky text quoted."""

from __future__ import annotations

from decimal import Decimal

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


def _needs_quotes(value: str) -> bool:
    """Digits, dates and other text a YAML 1.1 reader would not keep as a string."""
    resolved = yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))
    return resolved != "tag:yaml.org,2002:str" or value[:1].isdigit()


_Dumper.add_representer(Decimal, _decimal)
_Dumper.add_representer(str, _str)


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


def dump(record: dict, kind: str) -> str:
    """The canonical YAML text of a record of the given kind."""
    root = layout.schema(kind)
    return yaml.dump(
        ordered(record, root, root),
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
        indent=2,
    )
