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


class _Plan:
    """What ordered() needs of one schema node, worked out once per node."""

    def __init__(self, node: dict, root: dict):
        self.node = node  # kept alive, so that its id is not reused while the plan is cached
        node = layout._resolve(node, root) if node else {}
        self.props = node.get("properties", {})
        self.index = {k: i for i, k in enumerate(self.props)}
        self.extra = node.get("additionalProperties") if isinstance(node.get("additionalProperties"), dict) else {}
        self.named = (node.get("propertyNames") or {}).get("enum", [])
        self.items = node.get("items", {})


_plans: dict = {}


def _plan(node: dict, root: dict) -> _Plan:
    key = (id(node), id(root))
    plan = _plans.get(key)
    if plan is None or plan.node is not node:
        plan = _plans[key] = _Plan(node, root)
    return plan


def ordered(value, node: dict, root: dict):
    """A copy of value with mapping keys in the order the schema lists them (others after)."""
    if isinstance(value, dict):
        plan = _plan(node, root)
        index = plan.index
        if value.keys() <= index.keys():
            keys = sorted(value, key=index.__getitem__)
        else:
            # the schema's keys first, then those it names in propertyNames' enum (学历 in their
            # order), then the rest sorted
            named = [k for k in plan.named if k in value and k not in index]
            keys = (sorted((k for k in value if k in index), key=index.__getitem__) + named
                    + sorted(k for k in value if k not in index and k not in named))
        props, extra = plan.props, plan.extra
        return {k: ordered(value[k], props.get(k, extra), root) if isinstance(value[k], (dict, list)) else value[k]
                for k in keys}
    if isinstance(value, list):
        items = _plan(node, root).items
        return [ordered(v, items, root) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _yaml_dump(value, fast: bool = True) -> str:
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


def dump(record: dict, kind: str, *, fast: bool = True) -> str:
    """The canonical YAML text of a record of the given kind (fast=False: PyYAML's Python emitter only)."""
    root = layout.schema_for(kind, record)
    value = ordered(record, root, root)
    if fast:
        try:
            return _plain(value)
        except _Unsupported:
            pass
    return _yaml_dump(value, fast)


# ---------------------------------------------------------------------------------------------
# A line emitter for the common shapes (flat keys, plain or simply quoted text, numbers,
# lists of mappings): ten times faster than PyYAML's emitters and byte-identical to them
# (tests compare both); anything else goes to PyYAML.

_PLAIN_OK = re.compile(r"[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff\u3001-\u303f\uff01-\uff5e\-._/()·]*")
_QUOTE_OK = re.compile(r"[0-9A-Za-z\u4e00-\u9fff\-.:_/+]+")
_KEY_OK = re.compile(r"[a-z_][a-z0-9_]*")
_scalar_cache: dict[str, str] = {}


class _Unsupported(Exception):
    """Something the fast emitter does not handle; yamlwrite.dump takes over."""


def _slow_scalar(value) -> str:
    text = _yaml_dump({"k": value})
    if not text.startswith("k: ") or len(text.splitlines()) != 1:  # any line break, U+2028 too
        raise _Unsupported(value)
    return text[3:-1]


def _str_scalar(value: str) -> str:
    cached = _scalar_cache.get(value)
    if cached is not None:
        return cached
    if _PLAIN_OK.fullmatch(value) and not _needs_quotes(value):
        text = value
    elif _QUOTE_OK.fullmatch(value) and _needs_quotes(value):
        text = f'"{value}"'
    else:
        text = _slow_scalar(value)
    if len(_scalar_cache) < 200_000:
        _scalar_cache[value] = text
    return text


def _scalar(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _str_scalar(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            return text
    return _slow_scalar(value)


_keys_ok: set[str] = set()


def _emit_map(out: list, mapping: dict, indent: str, first: str | None = None) -> None:
    cache = _scalar_cache
    for k, v in mapping.items():
        if k not in _keys_ok:
            if not (isinstance(k, str) and _KEY_OK.fullmatch(k)):
                raise _Unsupported(k)
            _keys_ok.add(k)
        lead = first if first is not None else indent
        first = None
        t = type(v)
        if t is str:
            text = cache.get(v)
            out.append(f"{lead}{k}: {text if text is not None else _str_scalar(v)}\n")
        elif t is dict:
            if v:
                out.append(f"{lead}{k}:\n")
                _emit_map(out, v, indent + "  ")
            else:
                out.append(f"{lead}{k}: {{}}\n")
        elif t is list:
            if not v:
                out.append(f"{lead}{k}: []\n")
                continue
            out.append(f"{lead}{k}:\n")
            for item in v:
                if type(item) is dict and item:
                    _emit_map(out, item, indent + "  ", indent + "- ")
                elif isinstance(item, (dict, list)):
                    raise _Unsupported(item)
                else:
                    out.append(f"{indent}- {_scalar(item)}\n")
        else:
            out.append(f"{lead}{k}: {_scalar(v)}\n")


def _plain(value: dict) -> str:
    """The canonical text of an ordered record, or _Unsupported for shapes left to PyYAML."""
    out: list[str] = []
    _emit_map(out, value, "")
    return "".join(out)
