"""Strict YAML loading: every scalar stays the exact text the clerk typed.

YAML 1.1 (PyYAML's default) silently turns 0411-… phone numbers into octal,
``no`` into False, 1:20 into 80, 2011-08-01 into a date, 1_000 into 1000 and
``~`` into None.  ``load`` therefore never resolves scalars: the tree holds
only dict, list and str.  ``coerce`` converts a str to int, Decimal or bool
only where a JSON Schema asks for that type, and reports text that does not
fit instead of guessing.

``load`` also rejects everything that makes a file mean more than it shows:
anchors, aliases, merge keys, explicit tags, duplicate keys, complex keys,
several documents, deep nesting and oversized files.

Implementation: the libyaml event stream (``yaml.CParser.get_event``) is
turned into the tree by one flat loop.  Events carry anchors, aliases and
tags directly, so a lone anchor is seen too, an alias is refused the moment
it appears (billion laughs and self-references never get expanded), and the
nesting depth is checked while streaming, so ``[[[[…`` (even 100,000 deep)
stops at level MAX_DEPTH + 1 without any recursion.

Measured (Python 3.11.7, PyYAML 6.0.3 + libyaml, one core of a shared 2-core
VM; a synthetic 60-line application, 143 events, x 2,000 files, best of 3):
  events  (this module, lines=False)                ~ 9,100 files/s
  events  (this module, lines=True)                 ~ 7,700 files/s
  compose (yaml.compose(Loader=CLoader) + a walk     ~ 3,450 files/s
           with node-identity alias check and
           tag-vs-resolver check)
  ceiling: CParser.get_event alone, no tree          ~10,500 files/s
           compose with a no-op resolver, no walk    ~10,500 files/s
So 100,000 files take ~11 s per core here; the event loop costs only ~15 %
over creating PyYAML's event objects, which is the floor for any PyYAML
API.  compose is ~2.6x slower (the resolver's regexes run on every plain
scalar), cannot see an anchor that is never used (nodes do not record
anchors), and its composer recurses in C, so depth cannot be guarded first.
"""

from __future__ import annotations

import re
from decimal import Decimal
from sys import intern

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from ..problems import Problem

try:  # libyaml; the pure-Python parser is the (slow) fallback.
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - libyaml is a requirement
    _Parser = yaml.SafeLoader

__all__ = ["YamlError", "MAX_BYTES", "MAX_DEPTH", "load", "coerce"]

MAX_BYTES = 256 * 1024
MAX_DEPTH = 20
SHARED_TEXT = 16  # values this short (性别, 学历, dates, codes, opinions) are kept once however many records hold them


class YamlError(Exception):
    """A file that ``load`` refuses; one problem, the first one found."""

    def __init__(self, path: str, line: int, code: str, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.code = code
        self.message = message

    def problem(self) -> Problem:
        return Problem(self.path, self.line, "", self.code, self.message)


# --------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------

# PyYAML/libyaml problem texts -> what a clerk can act on.
_SYNTAX_ZH = (
    ("mapping values are not allowed", "此处不能出现“键: 值”（常见原因：值里有未加引号的“: ”，或缩进不对）"),
    ("could not find expected ':'", "找不到应有的冒号“:”（常见原因：缩进不对、某行缺少冒号或引号未闭合）"),
    ("did not find expected key", "找不到应有的键（常见原因：同一层的缩进不一致）"),
    ("did not find expected '-' indicator", "找不到应有的“-”（常见原因：列表项的缩进不一致）"),
    ("did not find expected ',' or ']'", "方括号“[ ]”内缺少逗号或“]”没有闭合"),
    ("did not find expected ',' or '}'", "花括号“{ }”内缺少逗号或“}”没有闭合"),
    ("did not find expected node content", "此处缺少内容"),
    ("did not find expected comment or line break", "此处应为行尾或注释（常见原因：引号后面还有文字）"),
    ("found unexpected end of stream", "文件意外结束（常见原因：引号或括号没有闭合）"),
    ("found unknown escape character", "双引号里有无法识别的转义“\\”（可改用单引号）"),
    ("found a tab character", "缩进里有制表符 Tab，请改用空格"),
    ("found character '\\t'", "缩进里有制表符 Tab，请改用空格"),
    ("found character that cannot start any token", "此处的字符不能作为开头（例如 Tab、@、`，请给值加引号）"),
    ("found undefined tag handle", "使用了未定义的标签（不允许使用标签）"),
    ("control characters are not allowed", "文件里有不可见的控制字符"),
    ("block sequence entries are not allowed", "此处不能出现列表项“- ”（常见原因：缩进不对）"),
    ("found unexpected ':'", "此处不能出现冒号“:”（请给值加引号）"),
    ("did not find expected <document start>", "文档后面还有多余的内容"),
    ("found unexpected end", "文件意外结束"),
)


def _err(path, line, code, message):
    return YamlError(path, line, code, f"第 {line} 行：{message}")


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(0, offset)) + 1


def _syntax_error(data: bytes, path: str, exc: Exception) -> YamlError:
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line = mark.line + 1
    elif getattr(exc, "position", None) is not None:
        line = _line_of_offset(data, exc.position)
    else:
        line = 1
    zh = "YAML 语法错误"
    for needle, text in _SYNTAX_ZH:
        if needle in problem:
            zh = f"YAML 语法错误：{text}"
            break
    context = getattr(exc, "context_mark", None)
    if context is not None and mark is not None and context.line + 1 < line:
        zh += f"；问题从第 {context.line + 1} 行开始"
    return _err(path, line, "yaml-syntax", zh)  # the parser's own English words are not repeated


def _tag_text(tag: str) -> str:
    if tag.startswith("tag:yaml.org,2002:"):
        return "!!" + tag[len("tag:yaml.org,2002:"):]
    return tag


def _refuse_props(ev, path):
    """The event has an anchor or a tag: refuse it."""
    line = ev.start_mark.line + 1
    if ev.anchor is not None:
        raise _err(
            path, line, "yaml-anchor",
            f"不允许使用锚点“&{ev.anchor}”（锚点和别名会让一处内容在别处暗中重复，请直接写出内容）",
        )
    raise _err(
        path, line, "yaml-tag",
        f"不允许使用标签“{_tag_text(ev.tag)}”（类型由模式决定；请删掉标签，需要原样文字时加引号）",
    )


def _refuse_alias(ev, path):
    raise _err(
        path, ev.start_mark.line + 1, "yaml-alias",
        f"不允许使用别名“*{ev.anchor}”（请直接写出内容，不要引用别处）",
    )


def _esc(key: str) -> str:
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class _NeedLines(Exception):
    """A duplicate key was found without a line map; redo with lines."""


def _build(data: bytes, path: str, lines: bool, max_depth: int):
    get = _Parser(data).get_event
    # Anchors need "&" and tags need "!" in the text; without either byte the
    # per-event checks are skipped (aliases are events of their own).
    props = b"&" in data or b"!" in data
    Scalar, MapStart, SeqStart = ScalarEvent, MappingStartEvent, SequenceStartEvent
    get()  # StreamStartEvent
    ev = get()
    if type(ev) is StreamEndEvent:
        raise _err(path, 1, "yaml-empty", "文件是空的（没有任何内容）")
    ev = get()  # the root node
    t = type(ev)
    line = ev.start_mark.line + 1
    if t is AliasEvent:
        _refuse_alias(ev, path)
    if ev.anchor is not None or ev.tag is not None:
        _refuse_props(ev, path)
    if t is ScalarEvent:
        if ev.value == "":
            raise _err(path, line, "yaml-empty", "文件是空的（没有任何内容）")
        raise _err(path, line, "yaml-root-not-mapping", "文件最外层须是“键: 值”的映射，而不是单个值")
    if max_depth < 1:
        raise _err(path, line, "yaml-too-deep", f"嵌套超过 {max_depth} 层")
    line_map = {"": line} if lines else None
    root_line = line
    root = cont = {} if t is MappingStartEvent else []
    is_map = t is MappingStartEvent
    key = None
    key_line = 0
    ptr = ""
    stack = []
    depth = 1
    while True:
        ev = get()
        t = type(ev)
        if t is Scalar:
            if props and (ev.anchor is not None or ev.tag is not None):
                _refuse_props(ev, path)
            if is_map:
                if key is None:
                    key = intern(ev.value)  # one object for each key across every record: memory at scale
                    if key in cont:
                        if not lines:
                            raise _NeedLines
                        first = line_map[ptr + "/" + _esc(key)]
                        raise _err(
                            path, ev.start_mark.line + 1, "yaml-duplicate-key",
                            f"键“{key}”重复，第一次出现在第 {first} 行",
                        )
                    if key == "<<" and not ev.style:
                        raise _err(
                            path, ev.start_mark.line + 1, "yaml-merge-key",
                            "不允许使用合并键“<<”（请把要合并的内容直接写出来）",
                        )
                    if lines:
                        key_line = ev.start_mark.line + 1
                    continue
                value = ev.value
                cont[key] = intern(value) if len(value) <= SHARED_TEXT else value
                if lines:
                    line_map[ptr + "/" + _esc(key)] = key_line
                key = None
            else:
                if lines:
                    line_map[f"{ptr}/{len(cont)}"] = ev.start_mark.line + 1
                cont.append(ev.value)
        elif t is MapStart or t is SeqStart:
            if props and (ev.anchor is not None or ev.tag is not None):
                _refuse_props(ev, path)
            if is_map and key is None:
                raise _err(
                    path, ev.start_mark.line + 1, "yaml-complex-key",
                    "键必须是一段简单文字，不能是映射或列表",
                )
            depth += 1
            if depth > max_depth:
                raise _err(
                    path, ev.start_mark.line + 1, "yaml-too-deep",
                    f"嵌套超过 {max_depth} 层（文件结构太深，可能是括号或缩进有误）",
                )
            new = {} if t is MapStart else []
            stack.append((cont, is_map, ptr))
            if is_map:
                cont[key] = new
                if lines:
                    ptr = ptr + "/" + _esc(key)
                    line_map[ptr] = key_line
                key = None
            else:
                if lines:
                    ptr = f"{ptr}/{len(cont)}"
                    line_map[ptr] = ev.start_mark.line + 1
                cont.append(new)
            cont = new
            is_map = t is MapStart
        elif t is AliasEvent:
            _refuse_alias(ev, path)
        else:  # MappingEndEvent / SequenceEndEvent
            if not stack:
                break
            cont, is_map, ptr = stack.pop()
            depth -= 1
    if not isinstance(root, dict):
        raise _err(path, root_line, "yaml-root-not-mapping", "文件最外层须是“键: 值”的映射，而不是列表")
    get()  # DocumentEndEvent
    ev = get()
    if type(ev) is DocumentStartEvent:
        raise _err(
            path, ev.start_mark.line + 1, "yaml-multiple-documents",
            "一个文件只能有一份内容，此处的“---”开始了第二份（请拆成两个文件或删掉“---”）",
        )
    return root, line_map


def load(data: bytes, path: str, *, lines: bool = False,
         max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH):
    """Return (tree, line_map). tree: dict/list/str only (every scalar a str, exact text; an empty
    value is ""). line_map: None unless lines=True, then {json_pointer: 1-based line} for every
    node ("" is the root; "/worker/name", "/approvals/0/level"; RFC 6901 escaping of ~ and /).
    Raise YamlError (first problem found) for anything rejected."""
    try:
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif not isinstance(data, bytes):
            data = bytes(data)
        if len(data) > max_bytes:
            raise _err(
                path, 1, "yaml-too-large",
                f"文件太大：{len(data)} 字节，上限 {max_bytes} 字节",
            )
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = _line_of_offset(data, exc.start)
            raise _err(
                path, line, "yaml-encoding",
                f"文件须为 UTF-8 编码（第 {exc.start + 1} 个字节起无法按 UTF-8 读取；"
                "Excel 等导出的 GBK 文件请另存为 UTF-8）",
            ) from None
        try:
            return _build(data, path, lines, max_depth)
        except _NeedLines:
            return _build(data, path, True, max_depth)[0], None
        except yaml.YAMLError as exc:
            raise _syntax_error(data, path, exc) from None
    except YamlError:
        raise
    except Exception as exc:  # never let anything else escape
        raise _err(path, 1, "yaml-syntax", f"无法读取 YAML：{type(exc).__name__}: {exc}") from None


# --------------------------------------------------------------------------
# coerce
# --------------------------------------------------------------------------

_INT = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_NUM = re.compile(r"[+-]?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_LEADING_ZERO = re.compile(r"[+-]?0[0-9]+(?:\.[0-9]+)?")
_SCIENTIFIC = re.compile(r"[+-]?[0-9.]+[eE][+-]?[0-9]+")
_FULLWIDTH = re.compile(r"[\uff10-\uff19\uff0b\uff0d\uff0e\uff0c]")
_TRUE = frozenset(("true", "是"))
_FALSE = frozenset(("false", "否"))
_COERCED = ("boolean", "integer", "number")  # the order conversions are tried in
_KIND_ZH = {"integer": "整数，例如 3", "number": "数字，例如 1200.50", "boolean": " true 或 false（也可写 是 或 否）"}
_KIND_NOUN = {"integer": "整数", "number": "数字", "boolean": " true 或 false"}
_KIND_CODE = {"integer": "yaml-not-integer", "number": "yaml-not-number", "boolean": "yaml-not-boolean"}
# Keywords that do not constrain a value; anything else unknown in an `if`
# makes the condition undecidable, and then both `then` and `else` apply.
_ANNOTATIONS = frozenset((
    "$schema", "$id", "$comment", "$anchor", "$defs", "definitions", "title", "description",
    "default", "examples", "deprecated", "readOnly", "writeOnly", "format",
))


def _hints(text: str, kinds) -> str:
    """What is wrong with text, in words a clerk understands."""
    if text == "":
        return "值是空的"
    notes = []
    m = _FULLWIDTH.search(text)
    if m:
        what = "全角数字" if "\uff10" <= m.group() <= "\uff19" else "全角符号"
        notes.append(f"其中有{what}（如“{m.group()}”），须用半角数字 0-9，请切换到半角输入")
    lower = text.lower()
    if "_" in text:
        notes.append("数字中不能用下划线“_”分隔")
    if "," in text or "，" in text:
        notes.append("数字中不能用千位分隔符“,”")
    if lower.lstrip("+-").startswith(("0x", "0o", "0b")):
        notes.append("不支持十六进制、八进制或二进制写法")
    if ":" in text or "：" in text:
        notes.append("含冒号，像时间或六十进制数（如 1:20），不是一个数")
    if lower in ("~", "null"):
        notes.append(f"“{text}”在这里不表示“没有”；没有就删掉这一项或按说明填写")
    if lower.lstrip("+-") in (".nan", "nan", ".inf", "inf", "infinity"):
        notes.append("不是一个有限的数")
    if _LEADING_ZERO.fullmatch(text):
        notes.append("不能以 0 开头（如 010 应写作 10）")
    if _SCIENTIFIC.fullmatch(text):
        notes.append("不支持科学计数法（如 1e3 应写作 1000）")
    if "integer" in kinds and "number" not in kinds and _NUM.fullmatch(text):
        notes.append("不能带小数")
    if "number" in kinds and (text.lstrip("+-").startswith(".") or text.endswith(".")):
        notes.append("小数点前后都要有数字（如 0.5）")
    if "boolean" in kinds:
        if lower in _TRUE or lower in _FALSE:
            notes.append("须全部小写")
        elif lower in ("yes", "no", "on", "off", "y", "n"):
            notes.append("yes/no/on/off 在不同软件里含义不一，请写 true 或 false")
    if text != text.strip():
        notes.append("前后有空格")
    if not notes:
        notes.append("含有数字以外的文字、单位或符号" if kinds != ("boolean",) else "不是可识别的是非值")
    return "；".join(notes)


def _convert(text: str, kinds):
    """Return the converted value, or None if text fits none of kinds."""
    for kind in kinds:
        if kind == "integer":
            if _INT.fullmatch(text):
                return int(text)
        elif kind == "number":
            if _NUM.fullmatch(text):
                return Decimal(text)
        elif text in _TRUE:
            return True
        elif text in _FALSE:
            return False
    return None


class _Info:
    """What the schemas that apply at one place say (flattened, cached)."""

    __slots__ = ("flat", "kinds", "nullable", "has_conds", "has_props", "items", "children")

    def __init__(self, flat, walker):
        self.flat = flat
        types = set()
        has_props = False
        items = []
        for s in flat:
            t = s.get("type")
            if isinstance(t, str):
                types.add(t)
            elif isinstance(t, list):
                types.update(x for x in t if isinstance(x, str))
            if "properties" in s or "additionalProperties" in s or "patternProperties" in s:
                has_props = True
            it = s.get("items")
            if isinstance(it, dict):
                items.append(it)
        self.kinds = () if "string" in types else tuple(k for k in _COERCED if k in types)
        self.nullable = "null" in types
        self.has_conds = any("if" in s for s in flat)
        self.has_props = has_props
        self.items = walker.expand(items) if items else None
        self.children = {}


class _Walker:
    """Schema knowledge for one root schema; everything is cached by identity."""

    def __init__(self, schema):
        self.schema = schema  # keeps every id() below valid
        self.infos = {}

    # -- schema structure -------------------------------------------------
    def ref(self, ref):
        if not isinstance(ref, str) or not ref.startswith("#"):
            return None  # only references within this schema
        node = self.schema
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def expand(self, schemas, seen=None):
        """Flatten schemas with their $ref, allOf, anyOf and oneOf into a tuple."""
        out = []
        seen = set() if seen is None else seen
        todo = list(reversed(schemas))
        while todo:
            s = todo.pop()
            if not isinstance(s, dict) or id(s) in seen:
                continue
            seen.add(id(s))
            out.append(s)
            more = []
            if "$ref" in s:
                more.append(self.ref(s["$ref"]))
            for key in ("allOf", "anyOf", "oneOf"):
                sub = s.get(key)
                if isinstance(sub, list):
                    more.extend(sub)
            todo.extend(reversed(more))
        return tuple(out)

    def info(self, flat):
        key = tuple(map(id, flat))
        info = self.infos.get(key)
        if info is None:
            info = self.infos[key] = _Info(flat, self)
        return info

    def child(self, info, name):
        """Info for the member `name` of an object, or None if no schema says anything."""
        try:
            return info.children[name]
        except KeyError:
            pass
        found = []
        for s in info.flat:
            props = s.get("properties")
            if isinstance(props, dict) and name in props:
                found.append(props[name])
                continue
            matched = False
            patterns = s.get("patternProperties")
            if isinstance(patterns, dict):
                for pattern, sub in patterns.items():
                    try:
                        if re.search(pattern, name):
                            found.append(sub)
                            matched = True
                    except re.error:
                        pass
            extra = s.get("additionalProperties")
            if not matched and isinstance(extra, dict):
                found.append(extra)
        result = self.info(self.expand(found)) if found else None
        if len(info.children) < 1000:
            info.children[name] = result
        return result

    # -- if / then / else -------------------------------------------------
    def resolve_conds(self, info, value):
        flat = list(info.flat)
        done = set()
        while True:
            added = []
            for s in flat:
                if "if" in s and id(s) not in done:
                    done.add(id(s))
                    verdict = self.test(s["if"], value, 0)
                    if verdict is not False and "then" in s:
                        added.append(s["then"])
                    if verdict is not True and "else" in s:
                        added.append(s["else"])
            if not added:
                return self.info(tuple(flat))
            flat.extend(self.expand(added, set(map(id, flat))))

    def test(self, schema, value, depth):
        """Does value (uncoerced text) satisfy schema? True, False or None (cannot tell)."""
        if schema is True or schema is False:
            return schema
        if not isinstance(schema, dict) or depth > 50:
            return None
        verdict = True
        for key, arg in schema.items():
            if key in _ANNOTATIONS:
                continue
            if key == "$ref":
                r = self.test(self.ref(arg), value, depth + 1)
            elif key == "const":
                r = _same(value, arg)
            elif key == "enum":
                r = None if not isinstance(arg, list) else any(_same(value, c) for c in arg)
            elif key == "type":
                names = [arg] if isinstance(arg, str) else arg if isinstance(arg, list) else []
                r = any(_is_type(value, n) for n in names)
            elif key == "required":
                r = not isinstance(value, dict) or all(k in value for k in arg)
            elif key == "properties":
                r = True
                if isinstance(value, dict) and isinstance(arg, dict):
                    for k, sub in arg.items():
                        if k in value:
                            rr = self.test(sub, value[k], depth + 1)
                            if rr is False:
                                r = False
                                break
                            if rr is None:
                                r = None
            elif key == "pattern":
                try:
                    r = not isinstance(value, str) or re.search(arg, value) is not None
                except (re.error, TypeError):
                    r = None
            elif key == "allOf" and isinstance(arg, list):
                rs = [self.test(sub, value, depth + 1) for sub in arg]
                r = False if False in rs else None if None in rs else True
            elif key == "anyOf" and isinstance(arg, list):
                rs = [self.test(sub, value, depth + 1) for sub in arg]
                r = True if True in rs else None if None in rs else False
            elif key == "not":
                r = self.test(arg, value, depth + 1)
                r = None if r is None else not r
            else:
                r = None
            if r is False:
                return False
            if r is None:
                verdict = None
        return verdict


def _same(value, const):
    """Is the text value equal to a JSON const once the text is read by the schema?"""
    if isinstance(const, bool):
        return isinstance(value, str) and value in (_TRUE if const else _FALSE)
    if isinstance(const, (int, float)):
        return isinstance(value, str) and _NUM.fullmatch(value) is not None and Decimal(value) == Decimal(str(const))
    if const is None:
        return value == ""
    return value == const


def _is_type(value, name):
    if isinstance(value, dict):
        return name == "object"
    if isinstance(value, list):
        return name == "array"
    if name == "string":
        return True
    if name == "integer":
        return _INT.fullmatch(value) is not None
    if name == "number":
        return _NUM.fullmatch(value) is not None
    if name == "boolean":
        return value in _TRUE or value in _FALSE
    if name == "null":
        return value == ""
    return False


_WALKERS: dict = {}


def _walker(schema) -> _Walker:
    entry = _WALKERS.get(id(schema))
    if entry is not None and entry.schema is schema:
        return entry
    if len(_WALKERS) > 64:
        _WALKERS.clear()
    entry = _WALKERS[id(schema)] = _Walker(schema)
    return entry


def coerce(tree, schema: dict, path: str, line_of) -> tuple[object, list[Problem]]:
    """Walk tree alongside a JSON Schema (Draft 2020-12 subset) and convert str scalars at places
    whose schema `type` is "integer" (-> int), "number" (-> decimal.Decimal) or "boolean"
    (-> bool). Everything else is returned untouched. line_of(pointer) -> int gives the line for a
    message. Text that does not fit is NOT converted; it yields a Problem (code "yaml-not-integer",
    "yaml-not-number", "yaml-not-boolean") and the original str is left in place.

    Containers are copied only where something inside them was converted, so unchanged parts
    are the very objects passed in (the input is never modified)."""
    walker = _walker(schema)
    problems: list[Problem] = []

    def pointer(at) -> str:  # the path is kept as nested (parent, key) pairs until a message needs it
        parts = []
        while at:
            at, key = at
            parts.append(_esc(key) if isinstance(key, str) else str(key))
        return "".join("/" + p for p in reversed(parts))

    def walk(value, info, at):
        if info.has_conds:
            info = walker.resolve_conds(info, value)
        if isinstance(value, str):
            kinds = info.kinds
            if not kinds or (info.nullable and value == ""):
                return value
            new = _convert(value, kinds)
            if new is not None:
                return new
            kind = "number" if "number" in kinds else "integer" if "integer" in kinds else "boolean"
            expected = "；或".join(_KIND_ZH[k] for k in kinds)
            ptr = pointer(at)
            try:
                line = int(line_of(ptr))
            except Exception:
                line = 0
            field = ptr or "/"
            problems.append(Problem(
                path, line, ptr, _KIND_CODE[kind],
                f"字段 {field}：应为{expected}；“{value}”不是{_KIND_NOUN[kind]}：{_hints(value, kinds)}",
            ))
            return value
        if isinstance(value, dict):
            if not info.has_props:
                return value
            out = None
            for k, v in value.items():
                sub = walker.child(info, k)
                if sub is None:
                    continue
                nv = walk(v, sub, (at, k))
                if nv is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = nv
            return value if out is None else out
        if isinstance(value, list):
            sub = info.items
            if not sub:
                return value
            sub = walker.info(sub)
            out = None
            for i, v in enumerate(value):
                nv = walk(v, sub, (at, i))
                if nv is not v:
                    if out is None:
                        out = list(value)
                    out[i] = nv
            return value if out is None else out
        return value

    root = walker.info(walker.expand([schema]))
    return walk(tree, root, ()), problems
