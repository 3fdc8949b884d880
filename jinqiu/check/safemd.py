"""Text from data on the public pages: every value is text (escaped where it lands, in Markdown and
HTML alike), except the campaign's notice text, which may use a small safe subset of Markdown.

Escaping: a value is written with every character that Markdown or HTML could read as markup
replaced by its numeric character reference (``[`` → ``&#91;``). Python-Markdown passes references
through untouched and the browser shows the character, so a union called ``[点我](javascript:…)``
is shown as exactly that text, in a paragraph, a heading or a table cell alike.

The safe subset (``check``): paragraphs, emphasis, lists, headings, quotes, code, line breaks and
links to a relative path or to an http/https address. Refused: any raw HTML (tags, comments), any
image with a remote source (the site works offline), links with any other scheme (javascript:,
data:, …), and attributes added with ``{: …}``. The check renders the text with the site's own
Markdown extensions and reads the HTML that comes out, so what is checked is what is published.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup

# Characters that Markdown (with the site's extensions) or HTML may read as markup.
_SPECIAL = set("\\`*_{}[]()#+!|<>&~^=\"'")
# At the start of a line these begin a list or a heading; inside a value they are plain.
_LEADING = re.compile(r"^([0-9]*)([.\-])(?=[\s.\-]|$)")


def escape(value) -> Markup:
    """Any value as literal text for a Markdown page (and for HTML inside it)."""
    if isinstance(value, Markup):
        return value
    text = " ".join(str(value).splitlines())
    out = "".join(f"&#{ord(ch)};" if ch in _SPECIAL else ch for ch in text)
    m = _LEADING.match(out)
    if m:
        out = m.group(1) + f"&#{ord(m.group(2))};" + out[m.end():]
    stripped = out.lstrip(" \t")  # leading spaces would make an indented code block
    out = "".join(f"&#{ord(ch)};" for ch in out[:len(out) - len(stripped)]) + stripped
    return Markup(out)


def finalize(value):
    """Jinja finalize for the site's templates: strings from data become literal text; numbers and
    Markup (our own HTML, built from escaped parts) pass as they are."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return escape(value)
    return value


# ---------------------------------------------------------------- the safe subset

EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables"]
ALLOWED_TAGS = {"p", "strong", "em", "b", "i", "ul", "ol", "li", "a", "img", "br", "hr", "code", "pre",
                "blockquote", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "div"}
ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "div": {"class"},
                 "th": {"style"}, "td": {"style"}}  # div class: admonitions; style: table alignment
_RAW_HTML = re.compile(r"<\s*[A-Za-z!/?]")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")


def _scheme(url: str) -> str:
    """The scheme a browser would see: control characters and spaces inside it are ignored."""
    try:
        return urlsplit(_INVISIBLE.sub("", url)).scheme.lower()
    except ValueError:
        return "?"


def _protocol_relative(url: str) -> bool:
    """Does a browser read the address as another host's (//host, and /\\host, \\\\host: a browser
    takes a backslash for a slash in http and https addresses)?"""
    return _INVISIBLE.sub("", url).replace("\\", "/").startswith("//")


def _remote(url: str) -> bool:
    return bool(_scheme(url)) or _protocol_relative(url)


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []  # (what was wrong, the text to find in the source)

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.found.append((f"不允许的标记 <{tag}>", tag))
            return
        for name, value in attrs:
            value = value or ""
            if name not in ALLOWED_ATTRS.get(tag, set()):
                self.found.append((f"不允许的属性 {name}", name))
            elif tag == "a" and name == "href" and _scheme(value) not in ("", "http", "https"):
                self.found.append((f"链接只能指向相对路径或 http/https 地址，不能是 {_scheme(value)}:", value[:20]))
            elif tag == "a" and name == "href" and _protocol_relative(value):
                self.found.append(("链接不能以 // 或 /\\ 开头（浏览器把它当作另一个网站），请写明 https://", value[:20]))
            elif tag == "img" and name == "src" and _remote(value):
                self.found.append(("不能引用外部图片（网站须离线可用）", value[:20]))
            elif tag == "div" and name == "class" and not set(value.split()) <= {"admonition", "note", "warning", "tip", "info"}:
                self.found.append((f"不允许的样式 {value}", value[:20]))
            elif name == "style" and not re.fullmatch(r"text-align:\s*(left|right|center);?", value):
                self.found.append(("不允许的样式", value[:20]))

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.found.append(("不能包含 HTML 注释", "<!--"))


def _line_of(text: str, needle: str) -> int:
    """The 1-based line of text that holds needle (or, failing that, its first line)."""
    for i, line in enumerate(text.splitlines(), 1):
        if needle and needle in line:
            return i
    return 1


def check(text: str) -> list[tuple[int, str]]:
    """Every way the text leaves the safe subset, as (line within the text, message)."""
    import markdown

    problems = []
    for i, line in enumerate(text.splitlines(), 1):
        if _RAW_HTML.search(line):
            problems.append((i, "不能包含 HTML 标签（只可用 Markdown 的段落、加粗、列表和链接）"))
    reader = _Reader()
    reader.feed(markdown.markdown(text, extensions=EXTENSIONS))
    reader.close()
    for message, needle in reader.found:
        problems.append((_line_of(text, needle), message))
    return sorted(set(problems))


def render(text: str) -> Markup:
    """The notice text for a page, after check() found nothing (raises ValueError otherwise)."""
    problems = check(text)
    if problems:
        raise ValueError("；".join(f"第 {line} 行：{message}" for line, message in problems))
    return Markup(text)
