"""Check a record against its JSON Schema; say what is wrong in the form's own words."""

from __future__ import annotations

import copy
import re
from datetime import date
from functools import lru_cache

import fastjsonschema

from . import ids
from ..records import layout

_TYPE_ZH = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "true 或 false", "object": "一组字段", "array": "列表"}


@lru_cache(maxsize=None)
def _fast(kind: str):
    """A compiled validator: fast, but only says yes or no."""
    # fastjsonschema rewrites the $refs of the schema it is given: give it a copy
    return fastjsonschema.compile(copy.deepcopy(layout.schema(kind)), use_formats=True)


@lru_cache(maxsize=None)
def _detailed(kind: str):
    import jsonschema  # 0.5 s to import: only when a record is wrong and must be explained

    cls = jsonschema.Draft202012Validator
    return cls(layout.schema(kind), format_checker=cls.FORMAT_CHECKER)


def _show(kind: str, pointer: str, value) -> str:
    """A value as it may appear in a message: personal values masked."""
    if isinstance(value, (dict, list)):
        return "一组字段" if isinstance(value, dict) else "列表"
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if layout.field(kind, pointer).get("x-personal") and isinstance(value, str):
        if pointer.endswith("id_number") or text.isdigit():
            return ids.mask_id(text)
        if pointer.endswith("phone"):
            return ids.mask_phone(text)
        return ids.mask_name(text)
    return text


def _pointer(path) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _message(kind: str, err) -> tuple[str, str, str]:
    """(pointer, code, message) for one jsonschema error."""
    pointer = _pointer(err.absolute_path)
    name = layout.label(kind, pointer)
    v = err.validator
    if v == "required":
        missing = err.message.split("'")[1] if "'" in err.message else "?"
        sub = f"{pointer}/{missing}"
        return pointer, "schema-required", f"缺少“{layout.label(kind, sub)}”（{missing}）：{layout.field(kind, sub).get('description', '此项必填')}"
    if v == "additionalProperties":
        allowed = list(layout._resolve(err.schema, layout.schema(kind)).get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        return pointer, "schema-unknown-field", f"“{name}”中有不认识的字段 {'、'.join(extra)}；可用的字段为 {'、'.join(allowed)}"
    shown = _show(kind, pointer, err.instance)
    desc = layout.field(kind, pointer).get("description", "")
    if v == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        return pointer, "schema-type", f"“{name}”应为{'或'.join(_TYPE_ZH.get(t, t) for t in want)}，现为“{shown}”"
    if v == "enum":
        return pointer, "schema-enum", f"“{name}”应为 {'、'.join(str(x) for x in err.validator_value)} 之一，现为“{shown}”"
    if v == "const":
        return pointer, "schema-const", f"“{name}”应为 {err.validator_value}，现为“{shown}”"
    if v == "pattern":
        return pointer, "schema-pattern", f"“{name}”格式不对（现为“{shown}”）：{desc}"
    if v == "format":
        return pointer, "schema-format", f"“{name}”应为真实存在的日期，写作 YYYY-MM-DD（例如 2011-08-10），现为“{shown}”{_date_hint(err.instance)}"
    if v in ("minLength", "minItems"):
        return pointer, "schema-empty", f"“{name}”不能为空" + (f"，至少 {err.validator_value} 个字" if err.validator_value > 1 else "")
    if v == "maxLength":
        return pointer, "schema-too-long", f"“{name}”最多 {err.validator_value} 个字"
    if v in ("minimum", "exclusiveMinimum"):
        return pointer, "schema-minimum", f"“{name}”不能小于 {err.validator_value}，现为 {shown}"
    if v in ("maximum", "exclusiveMaximum"):
        return pointer, "schema-maximum", f"“{name}”不能大于 {err.validator_value}，现为 {shown}"
    if v == "not" and isinstance(err.validator_value, dict) and err.validator_value.get("required"):
        extra = "、".join(f"“{layout.label(kind, f'{pointer}/{k}')}”（{k}）" for k in err.validator_value["required"])
        head, _, last = pointer.rpartition("/")
        where = f"第 {int(last) + 1} 条“{layout.label(kind, head)}”" if last.isdigit() else f"“{name}”"
        return pointer, "schema-not-allowed", f"{where}中不应有{extra}"
    if v == "propertyNames":
        return pointer, "schema-key", f"“{name}”中的项目名“{shown}”不对：{desc}"
    return pointer, f"schema-{v}", f"“{name}”不符合要求：{desc or err.message}"


def check(kind: str, data) -> list[tuple[str, str, str]]:
    """Every schema violation of one record as (pointer, code, message); [] when it is valid."""
    try:
        _fast(kind)(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass
    errors = []
    for err in _detailed(kind).iter_errors(data):
        # if/then errors are reported by the subschema's own error; drop the wrappers
        errors.extend(_flatten(err))
    return sorted({_message(kind, e) for e in errors})


def _flatten(err):
    if err.validator in ("allOf", "anyOf", "oneOf", "if", "then") and err.context:
        for sub in err.context:
            yield from _flatten(sub)
    else:
        yield err


def _date_hint(value) -> str:
    """For 2011-7-7 or 2011/7/7: the same date written the one accepted way."""
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", value) if isinstance(value, str) else None
    if not m:
        return ""
    try:
        return f"；应写成 {date(int(m[1]), int(m[2]), int(m[3])).isoformat()}（月和日各两位）"
    except ValueError:
        return f"；{m[1]} 年 {int(m[2])} 月没有 {int(m[3])} 日"
