"""init-city: a city's own repository from zero, from a questionnaire the city office fills in.

What it makes (create): a new git repository whose first and only commit is the city's, signed by
one of its administrators (a root key), holding
- the code, as this Jinqiu has it (CODE_PATHS: build.py, jinqiu/, schemas/, the site's pages and
  theme, mkdocs.yml, the workflows for GitHub and for Gitea / Forgejo, the docs, setup.sh and the
  requirements), and `.jinqiu-version` saying which version that is (upgrade replaces exactly these);
- the city's data: units.yaml (its unions, with codes made from their names), reviewers.yaml (its
  administrators and reviewers, each with a public key and a forge account), the first campaign
  file, root-of-trust.txt (the administrators' fingerprints), and the CODEOWNERS both forges read;
- nothing of the project's sample: no application, no TEST key, no other city's name.
The root of trust is pinned in the new repository's git config (jinqiu.rootKey) as well.

What it refuses (plan), before it writes anything: every problem of the answers at once, each with
the questionnaire's line: a union without a parent or under the wrong level, two unions with one
name or code, a person without a key or without a forge account, a key that cannot be read, a
published TEST key, one key for two people, an administrator below the city, no administrator, a
campaign the schema or the rules refuse, a signing key that is not an administrator's, a target
that is not empty. Then the data it would write is validated and verified as a whole, as the
city's first build will be.

Sealing (optional, the section 加密保存): since which year personal values are sealed, how many
years they are kept, the build and escrow age public keys, and every person's age public key (a
reviewer's beside their ssh key; a clerk who is no reviewer under 经办人) make data/sealing.yaml, in
the same first commit. Its union keys come next, from `keys new-year` in a key repository of its
own (init-city says so); a key that is not an age public key (or is a private one), a clerk of an
unknown union, or a since-year after the first campaign are refused like every other answer.

The union codes: the city's is its place name's pinyin initials (沈阳市 -> sy) unless the answers
give one; a district or industry union's is the city's code and the initials of its own name
without the place name and the 区/县/市 ending (沈阳市和平区总工会 -> sy-hp); a grassroots union's is
its parent's code and a four-digit number in the order given (sy-hp-0001). A code given in the
answers is kept. Codes never change afterwards (records are filed under them).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..check import city as citycon
from ..check import ids, validate
from ..check.unitref import KIND_NAMES, UNIT_LEVEL
from ..records import layout, sealed, yamlstrict
from ..trust import anchor, approve, codeowners, registry, testkeys
from ..problems import ERROR
from . import fmt

SOURCE = Path(__file__).resolve().parents[2]  # this Jinqiu: the code a new city gets
# The code: everything init-city copies and upgrade replaces; nothing under data/ ever.
CODE_PATHS = ("build.py", "jinqiu", "schemas", "site_src", "site_theme", "mkdocs.yml", "requirements.txt",
              "setup.sh", "packages-debian.txt", "docs", ".github/workflows", ".gitea/workflows", ".gitignore")
VERSION_FILE = ".jinqiu-version"
FORGES = ("github", "gitea", "forgejo")
KINDS = {name: kind for kind, name in KIND_NAMES.items()} | {"区市县总工会": "district", "市辖区总工会": "district"}
ANSWERS_NAME = "建库.yaml"


class CityError(Exception):
    """What the answers or the machine must fix first; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Plan:
    """Everything create() writes, worked out and checked before anything is written."""

    city: str
    forge: str
    files: dict = field(default_factory=dict)  # repository path -> text (the data and the city's own files)
    roots: list = field(default_factory=list)  # the administrators' fingerprints: the root of trust
    signing: object = None  # approve.Signing of the administrator who signs the first commit
    warnings: list = field(default_factory=list)
    units: dict = field(default_factory=dict)
    reviewers: dict = field(default_factory=dict)
    year: int | None = None
    sealing: dict | None = None  # data/sealing.yaml when the city seals personal values from the start


# ---------------------------------------------------------------------------------------------
# The questionnaire

ANSWERS_TEMPLATE = """\
# 金秋助学 建库问卷：市总工会填写本文件，然后运行
#   python3 build.py init-city 新仓库目录 --answers 建库.yaml
# 它先检查全部内容（有问题逐条说明、什么都不写），再建立本市自己的仓库。# 之后是说明，可以删去。

市总工会: 某某市总工会          # 市总工会全称
# 编号: ab                     # 本市工会编号的开头（小写字母）；不写则取市名的拼音首字母
区号: ["0000"]                 # 本市固定电话区号，可写几个，例如 ["024"]
# 联系电话: "0000-23456789"     # 市总工会办公电话（可不写）
平台: github                   # 仓库放在哪个平台：github、gitea 或 forgejo
# 网站地址: https://jinqiu.example.cn/     # 公开网站的地址（可不写，以后在 mkdocs.yml 里改）
# 仓库网页地址: https://git.example.cn/jinqiu/jinqiu   # 仓库的网页地址（可不写）

# 工会：区市县总工会、产业工会，和它们下属的企业工会、街道工会。类别写：区总工会、县级市总工会、
# 县总工会、产业工会、企业工会、街道工会。编号不写则自动编（见 docs/city.md）。
工会:
- 名称: 某某市某区总工会
  类别: 区总工会
  下属:
  - 名称: 某某公司工会
    类别: 企业工会
  - 名称: 某区某街道工会
    类别: 街道工会
# 工会很多时可以改用表格：工会名单: 工会名单.xlsx（列：名称、类别、上级工会、编号、联系电话；
# 区市县、产业工会的上级工会可以空着，基层工会必须写）。“工会”和“工会名单”只写一个。

# 人员：管理员（市总工会，至少两位）和各级审核人。每人一项：
#   工会：所在工会的名称或编号；层级由工会决定（市总工会 3，区市县、产业工会 2，基层工会 1）
#   公钥：本人用 ssh-keygen 生成后交来的公钥文件（相对本文件的路径），或公钥那一行
#   平台账号：本人在上面平台上的登录名（合并请求要由他批准）
#   身份证号码（可不写）：用于发现审核本人或家属的申请
#   生效日期（可不写）：默认为今天和活动开始日期中较早的一天
#   加密公钥（加密保存时写）：本人用 keys init 生成后交来的加密公钥 age1…（文件或那一行）
人员:
- 姓名: 张某
  工会: 某某市总工会
  管理员: 是
  公钥: 公钥/张某.pub
  平台账号: zhangmou

# 第一个年度活动：与 data/campaigns/<年度>.yaml 的写法相同（见 docs/city.md 第三节），按通知填写。
活动:
  year: 2012
  title: "2012年“金秋助学”活动和困难职工家庭高校毕业生“阳光就业”行动"
  notice: 某工办发〔2012〕1号
  issuer: 某某市总工会
  receiver: 市总工会生活保障部
  starts_on: "2012-07-01"
  materials_due: "2012-08-10"
  report_due: "2012-08-25"
  ends_on: "2012-08-25"
  statistics_as_of: "2012-08-31"
  amounts:
    new: {本科: 5000, 大专: 4000, 高职: 4000}
    continuing: {本科: 3000, 大专: 2000, 高职: 2000}
    local: {小学: 1000, 初中: 1000, 高中: 1500, 中职: 1500, 高职: 2000, 大专: 2000, 本科: 2000}
  course_years: {本科: 4, 大专: 3, 高职: 3, 研究生: 3}

# 加密保存（可不写，见 docs/sealing.md）：个人信息自某个年度起加密保存，只有申请的审批链上的人能读。
# 写了这一项，每位人员都要有加密公钥（写在“人员”里本人那一项，或下面“审核人”里）；不是审核人的经办人写在“经办人”下。
# 加密保存:
#   起始年度: 2012               # 从这个年度起加密（不晚于上面第一个年度活动）
#   保存年数: 5                  # 活动年度结束后保存几年，期满销毁这一年的密钥
#   构建密钥: 加密公钥/构建机.txt   # 市总工会构建机的加密公钥（keys init 打印的 age1…）
#   托管密钥: 加密公钥/托管.txt     # 离线保管的托管密钥的加密公钥
#   审核人:                      # 审核人的加密公钥也可以不写在“人员”里，而在这里按姓名补交（可不写）
#   - 姓名: 张某
#     加密公钥: 加密公钥/张某.txt
#   经办人:                      # 不是审核人、但要读本工会申请的经办人（可不写）
#   - 姓名: 某某
#     工会: 某某公司工会
#     加密公钥: 加密公钥/某某.txt
"""

TOP_KEYS = {"市总工会", "编号", "区号", "联系电话", "平台", "网站地址", "仓库网页地址", "工会", "工会名单", "人员", "活动", "加密保存"}
UNIT_KEYS = {"名称", "类别", "编号", "联系电话", "下属"}
PERSON_KEYS = {"姓名", "工会", "管理员", "公钥", "平台账号", "身份证号码", "生效日期", "加密公钥"}
SEALING_KEYS = {"起始年度", "保存年数", "构建密钥", "托管密钥", "审核人", "经办人"}
CLERK_KEYS = {"姓名", "工会", "加密公钥", "生效日期"}
_CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def initials(text: str) -> str:
    """The pinyin initials of Chinese text, letters and digits kept (和平区 -> hpq)."""
    from pypinyin import Style, lazy_pinyin

    return re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")).lower())


def _distinctive(name: str, place: str) -> str:
    """沈阳市和平区总工会 -> 和平; 沈阳市机械冶金工会 -> 机械冶金; 新民市总工会 -> 新民."""
    short = name.removeprefix(place) if place and len(name) > len(place) + 2 else name
    for suffix in ("总工会", "工会"):
        short = short.removesuffix(suffix)
    if len(short) > 2 and short[-1] in "区县市旗":
        short = short[:-1]
    return short or name


class _Answers:
    """The questionnaire read strictly, with each value's line for messages."""

    def __init__(self, path: Path):
        self.path = path
        self.shown = str(path)
        self.problems: list[str] = []
        self.age_keys: dict[str, str] = {}  # pointer of a person's 加密公钥 (by their place among the reviewers) -> text
        try:
            self.tree, self.lines = yamlstrict.load(path.read_bytes(), self.shown, lines=True)
        except OSError as exc:
            raise CityError([f"读不到问卷 {path}：{exc.strerror}"]) from None
        except yamlstrict.YamlError as exc:
            raise CityError([f"{exc.path}:{exc.line}: {exc.message}"]) from None
        if not isinstance(self.tree, dict):
            raise CityError([f"{self.shown}:1: 问卷应是“项目: 内容”的形式（见 init-city --template 写出的样本）"])

    def line(self, pointer: str) -> int:
        while pointer and pointer not in self.lines:
            pointer = pointer.rsplit("/", 1)[0]
        return self.lines.get(pointer, 1)

    def error(self, pointer: str, message: str) -> None:
        self.problems.append(f"{self.shown}:{self.line(pointer)}: {message}")


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _yes(value) -> bool:
    return _text(value).lower() in ("是", "yes", "true", "y", "1", "√")


# ---------------------------------------------------------------------------------------------
# Unions

@dataclass
class _Unit:
    name: str
    kind: str
    parent: str | None  # a name or code as given; None: the structure says (nested), or the city
    code: str | None
    phone: str | None
    pointer: str
    parent_unit: "_Unit | None" = None


def _units_from_tree(a: _Answers, items, parent: _Unit | None, pointer: str, out: list) -> None:
    if not isinstance(items, list):
        a.error(pointer, "“工会”应是一个列表，每个工会一项（- 名称: …）")
        return
    for i, item in enumerate(items):
        here = f"{pointer}/{i}"
        if not isinstance(item, dict):
            a.error(here, "每个工会写成“名称: … 类别: …”")
            continue
        for key in sorted(set(item) - UNIT_KEYS):
            a.error(f"{here}/{key}", f"不认识的项目“{key}”；工会可写：{'、'.join(sorted(UNIT_KEYS))}")
        u = _Unit(_text(item.get("名称")), _text(item.get("类别")), None, _text(item.get("编号")) or None,
                  _text(item.get("联系电话")) or None, here, parent)
        out.append(u)
        if "下属" in item:
            _units_from_tree(a, item["下属"], u, f"{here}/下属", out)


def _units_from_sheet(a: _Answers, rel: str, out: list) -> None:
    from ..sheets import cells, tables

    path = (a.path.parent / rel)
    try:
        sheets = tables.read(path)
    except (OSError, tables.TableError) as exc:
        a.error("/工会名单", f"读不到工会名单 {rel}：{getattr(exc, 'strerror', None) or exc}")
        return
    rows = next((t for t in sheets if t.rows), None)
    if rows is None:
        a.error("/工会名单", f"工会名单 {rel} 是空的")
        return
    header = [_text(cells.text_of(h)) if h is not None else "" for h in rows.rows[0]]
    col = {h: i for i, h in enumerate(header) if h}
    for need in ("名称", "类别"):
        if need not in col:
            a.error("/工会名单", f"工会名单 {rel} 第 1 行缺少“{need}”列（应有：名称、类别、上级工会、编号、联系电话）")
            return
    for n, row in enumerate(rows.rows[1:], 2):
        def cell(name):
            i = col.get(name)
            v = row[i] if i is not None and i < len(row) else None
            return _text(cells.text_of(v)) if v is not None and not cells.is_empty(v) else ""
        if not any(cell(h) for h in col):
            continue
        where = f"{rel}!{rows.name}!{n}"
        out.append(_Unit(cell("名称"), cell("类别"), cell("上级工会") or None, cell("编号") or None, cell("联系电话") or None, where))


def _plan_units(a: _Answers, city_name: str, city_code: str, area_codes: list, city_phone: str | None) -> dict:
    """{code: unit dict} for units.yaml, the city first; every problem noted on the answers."""
    raw: list[_Unit] = []
    if "工会" in a.tree and "工会名单" in a.tree:
        a.error("/工会名单", "“工会”和“工会名单”只能写一个")
    if "工会名单" in a.tree:
        _units_from_sheet(a, _text(a.tree.get("工会名单")), raw)
    elif "工会" in a.tree:
        _units_from_tree(a, a.tree["工会"], None, "/工会", raw)
    else:
        a.error("", "缺少“工会”：本市的区市县总工会、产业工会和基层工会（或用“工会名单”给出表格）")

    def note(u: _Unit, message: str) -> None:
        if u.pointer.startswith("/"):
            a.error(u.pointer, message)
        else:
            a.problems.append(f"{u.pointer}: {message}")

    place = citycon.place_of(city_name)
    units = {city_code: {"id": city_code, "name": city_name, "kind": "city", **({"contact_phone": city_phone} if city_phone else {}),
                         "area_codes": list(area_codes)}}
    by_name = {city_name: city_code}
    seen_names = {}
    for u in raw:
        if not u.name:
            note(u, "工会缺少“名称”")
        elif u.name in seen_names or u.name == city_name:
            note(u, f"工会名称“{u.name}”重复")
        seen_names.setdefault(u.name, u)
        if u.kind not in KINDS or KINDS[u.kind] == "city":
            note(u, f"“类别”应为 区总工会、县级市总工会、县总工会、产业工会、企业工会 或 街道工会，不是“{u.kind}”")
        if u.phone and not ids.phone_ok(u.phone):
            note(u, f"“联系电话”{u.phone} 应为带区号和连字符的固定电话或 11 位手机号")
        if u.code and not _CODE.match(u.code):
            note(u, f"“编号”{u.code} 只能用小写字母、数字和连字符，以字母开头")
    # parents: the nesting, else the 上级工会 column (a name or a code), else the city for level 2
    given_codes = {u.code: u for u in raw if u.code}
    for u in raw:
        level = UNIT_LEVEL.get(KINDS.get(u.kind, ""), 0)
        if u.parent_unit is None and u.parent:
            u.parent_unit = seen_names.get(u.parent) or given_codes.get(u.parent)
            if u.parent_unit is None and u.parent not in (city_name, city_code, "市总工会"):
                note(u, f"“上级工会”{u.parent} 不在工会名单中")
                continue
        if level == 1 and u.parent_unit is None:
            note(u, f"基层工会“{u.name}”没有上级工会：请写它所属的区市县总工会或产业工会")
        elif level == 1 and UNIT_LEVEL.get(KINDS.get(u.parent_unit.kind, ""), 0) != 2:
            note(u, f"基层工会“{u.name}”的上级应是区市县总工会或产业工会，不是“{u.parent_unit.name}”")
        elif level == 2 and u.parent_unit is not None:
            note(u, f"“{u.name}”是区市县或产业工会，上级就是市总工会，不能在“{u.parent_unit.name}”之下")
    if a.problems:
        return units
    # codes: level 2 first (from their names), then grassroots in order
    used = set(units)
    codes: dict[int, str] = {}

    def take(code: str) -> str:
        base, n = code, 2
        while code in used:
            code = f"{base}{n}"
            n += 1
        used.add(code)
        return code

    for u in raw:
        if u.code:
            if u.code in used:
                note(u, f"“编号”{u.code} 重复")
            used.add(u.code)
    for u in raw:
        if UNIT_LEVEL.get(KINDS[u.kind]) == 2:
            codes[id(u)] = u.code or take(f"{city_code}-{initials(_distinctive(u.name, place)) or 'x'}")
    counters: dict[str, int] = {}
    for u in raw:
        if UNIT_LEVEL.get(KINDS[u.kind]) == 1:
            parent = codes[id(u.parent_unit)]
            if u.code:
                codes[id(u)] = u.code
                continue
            while True:
                counters[parent] = counters.get(parent, 0) + 1
                code = f"{parent}-{counters[parent]:04d}"
                if code not in used:
                    break
            used.add(code)
            codes[id(u)] = code
    for u in raw:
        level = UNIT_LEVEL[KINDS[u.kind]]
        entry = {"id": codes[id(u)], "name": u.name, "kind": KINDS[u.kind], "parent": city_code if level == 2 else codes[id(u.parent_unit)]}
        if u.phone:
            entry["contact_phone"] = u.phone
        units[entry["id"]] = entry
        by_name[u.name] = entry["id"]
    return units


# ---------------------------------------------------------------------------------------------
# People

def _read_key(a: _Answers, pointer: str, value: str) -> str | None:
    """The public key line: the text itself, or the file it names (relative to the questionnaire)."""
    if not value:
        a.error(pointer, "缺少“公钥”：没有公钥的人无法审批（签名核验不了），请让本人用 ssh-keygen 生成后交来 .pub 文件")
        return None
    if value.startswith(("ssh-", "ecdsa-", "sk-")):
        return value
    path = a.path.parent / Path(value).expanduser()
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        a.error(pointer, f"读不到公钥文件 {value}（相对问卷所在目录）")
        return None
    if "PRIVATE KEY" in text:
        a.error(pointer, f"{value} 是私钥！私钥只能留在本人电脑上，请收回并让本人重新生成密钥；这里要的是 .pub 公钥文件")
        return None
    return text.splitlines()[0].strip() if text else ""


def _plan_people(a: _Answers, units: dict, forge: str, default_from: str) -> dict:
    people = a.tree.get("人员")
    if not isinstance(people, list) or not people:
        a.error("/人员" if "人员" in a.tree else "", "缺少“人员”：至少要有市总工会的管理员（建议两位），以及各级审核人")
        return {}
    by_name = {u["name"]: uid for uid, u in units.items()}
    reviewers: dict = {}
    fingerprints: dict = {}
    per_unit: dict = {}
    for i, p in enumerate(people):
        here = f"/人员/{i}"
        if not isinstance(p, dict):
            a.error(here, "每人写成“姓名: … 工会: … 公钥: … 平台账号: …”")
            continue
        for key in sorted(set(p) - PERSON_KEYS):
            a.error(f"{here}/{key}", f"不认识的项目“{key}”；人员可写：{'、'.join(sorted(PERSON_KEYS))}")
        name = _text(p.get("姓名"))
        if len(name) < 2:
            a.error(f"{here}/姓名", "缺少“姓名”（至少两个字）")
        unit_text = _text(p.get("工会"))
        uid = unit_text if unit_text in units else by_name.get(unit_text)
        if uid is None:
            a.error(f"{here}/工会", f"“工会”{unit_text or '（空）'} 不在工会名单中（写工会全称或编号）")
            continue
        level = UNIT_LEVEL[units[uid]["kind"]]
        admin = _yes(p.get("管理员"))
        if admin and level != 3:
            a.error(f"{here}/管理员", f"管理员须是市总工会的人，{name} 在 {units[uid]['name']}")
        login = _text(p.get("平台账号"))
        if not login:
            a.error(f"{here}/平台账号", f"缺少“平台账号”：{name} 在 {forge} 上的登录名（合并请求由 CODEOWNERS 指定的人批准，没有账号就无人负责）")
        number = _text(p.get("身份证号码"))
        if number and ids.id_problem(number):
            a.error(f"{here}/身份证号码", f"身份证号码 {ids.mask_id(number)} 有误：{ids.id_problem(number)}")
        since = _text(p.get("生效日期")) or default_from
        try:
            dt.date.fromisoformat(since)
        except ValueError:
            a.error(f"{here}/生效日期", f"“生效日期”{since} 应写成 2012-06-01 这样")
        line = _read_key(a, f"{here}/公钥", _text(p.get("公钥")))
        fpr = None
        if line:
            try:
                fpr = registry.ssh_fingerprint(line)
            except Exception:  # noqa: BLE001 (any unreadable key is the answers' to fix)
                a.error(f"{here}/公钥", f"{name} 的公钥无法读取：应是 ssh-keygen 生成的 .pub 文件里的一行（ssh-ed25519 AAAA…）")
        n = per_unit[uid] = per_unit.get(uid, 0) + 1
        rid = f"r-{uid}-{n:02d}"
        if fpr:
            if testkeys.is_test_comment(line) or fpr in testkeys.derivable([rid]):
                a.error(f"{here}/公钥", f"{name} 的公钥是公开的测试密钥（TEST KEY），任何人都能算出私钥；请本人重新生成")
            elif fpr in fingerprints:
                a.error(f"{here}/公钥", f"这把公钥已是 {fingerprints[fpr]} 的；一把钥匙只能属于一个人")
            fingerprints.setdefault(fpr, name)
        entry = {"id": rid, "name": name, "unit": uid, "level": level}
        if admin:
            entry["admin"] = True
        if number:
            entry["id_number"] = number
        if login:
            entry["forge_logins"] = {forge: login}
        entry["keys"] = [{"type": "ssh", "public_key": line or "", "fingerprint": fpr or "", "valid_from": since}]
        reviewers[rid] = entry
        if "加密公钥" in p:
            a.age_keys[f"/人员/{len(reviewers) - 1}/加密公钥"] = _text(p.get("加密公钥"))
    admins = [r for r in reviewers.values() if r.get("admin")]
    if not admins and not a.problems:
        a.error("/人员", "没有管理员：至少一位市总工会的人要写“管理员: 是”（建议两位，以防一人丢失密钥）")
    return reviewers


# ---------------------------------------------------------------------------------------------
# Sealing (optional): data/sealing.yaml from the questionnaire

def _read_age_key(a: _Answers, pointer: str, value: str, whose: str) -> str | None:
    """An age public recipient: the `age1…` text itself, or the file it names (as `keys init` printed it,
    or the identity file's `# public key:` line); a private key or anything else is the answers' to fix."""
    import pyrage

    if not value:
        a.error(pointer, f"缺少{whose}的“加密公钥”：加密保存时，审批链上的每个人都要用 keys init 生成加密密钥，交来公钥 age1…")
        return None
    text = value
    if not value.startswith("age1"):
        path = a.path.parent / Path(value).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            a.error(pointer, f"读不到{whose}的加密公钥文件 {value}（相对问卷所在目录）")
            return None
        if "AGE-SECRET-KEY-" in text or text.startswith("age-encryption.org/"):
            a.error(pointer, f"{value} 是加密私钥！私钥只能留在本人电脑上（或构建机、托管处），请收回；这里要的是 keys init 打印的公钥 age1…")
            return None
        found = [w for line in text.splitlines() for w in line.replace("# public key:", " ").split() if w.startswith("age1")]
        text = found[0] if len(found) == 1 else text.strip()
    try:
        pyrage.x25519.Recipient.from_str(text.strip())
    except Exception:  # noqa: BLE001 (pyrage raises its own RecipientError)
        a.error(pointer, f"{whose}的加密公钥不是 age 公钥（应是 keys init 打印的一行 age1…，共 62 个字符）")
        return None
    return text.strip()


def _plan_sealing(a: _Answers, units: dict, reviewers: dict, people_keys: dict, year, default_from: str) -> dict | None:
    """data/sealing.yaml from the optional section 加密保存 (None when it is not there): since, retain_years,
    the build and escrow keys, and a member for every person (a reviewer under their id, a clerk as m-<unit>-NN)."""
    section = a.tree.get("加密保存")
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year.strip())
    if section is None:
        for pointer in people_keys:
            a.error(pointer, "写了“加密公钥”却没有“加密保存”一项：要加密保存，请写上“加密保存”（起始年度、构建密钥、托管密钥）")
        return None
    if not isinstance(section, dict):
        a.error("/加密保存", "“加密保存”应写成“起始年度: … 构建密钥: … 托管密钥: …”（见 init-city --template 写出的样本）")
        return None
    for key in sorted(set(section) - SEALING_KEYS):
        a.error(f"/加密保存/{key}", f"不认识的项目“{key}”；加密保存可写：{'、'.join(sorted(SEALING_KEYS))}")
    since = section.get("起始年度")
    if isinstance(since, str) and since.strip().isdigit():
        since = int(since.strip())
    if not isinstance(since, int) or isinstance(since, bool) or not 2000 <= since <= 2100:
        a.error("/加密保存/起始年度", f"“起始年度”应是一个年份，例如 {year if isinstance(year, int) else 2012}")
        since = None
    elif isinstance(year, int) and since > year:
        a.error("/加密保存/起始年度", f"“起始年度”{since} 晚于第一个年度活动 {year}：新建的仓库从第一个年度起就应加密保存"
                f"（起始年度写 {year} 或更早），否则这一年的个人信息以明文进入历史，以后再也删不掉")
    retain = section.get("保存年数", None)
    if isinstance(retain, str) and retain.strip().isdigit():
        retain = int(retain.strip())
    if retain is not None and (not isinstance(retain, int) or isinstance(retain, bool) or not 1 <= retain <= 50):
        a.error("/加密保存/保存年数", "“保存年数”应是 1 到 50 之间的整数（活动年度结束后保存几年）")
        retain = None
    build = _read_age_key(a, "/加密保存/构建密钥", _text(section.get("构建密钥")), "构建机")
    escrow = _read_age_key(a, "/加密保存/托管密钥", _text(section.get("托管密钥")), "托管密钥")
    members, seen = [], {}

    def add(pointer: str, mid: str, unit: str, recipient: str | None, since_day: str, who: str) -> None:
        if recipient is None:
            return
        if recipient in seen or recipient in (build, escrow):
            a.error(pointer, f"{who}的加密公钥已是{seen.get(recipient, '构建密钥或托管密钥')}的；每人用自己的一把")
            return
        seen[recipient] = who
        members.append({"id": mid, "unit": unit, "recipient": recipient, "valid_from": since_day})

    by_name = {}
    place = {}
    for i, (rid, r) in enumerate(reviewers.items()):
        by_name.setdefault(r["name"], rid)
        place[rid] = i
    # a reviewer's age key beside their ssh key, or (handed in later) under 加密保存/审核人 by name
    given = {rid: (f"/人员/{place[rid]}/加密公钥", people_keys[f"/人员/{place[rid]}/加密公钥"])
             for rid in reviewers if f"/人员/{place[rid]}/加密公钥" in people_keys}
    named = section.get("审核人") or []
    if not isinstance(named, list):
        a.error("/加密保存/审核人", "“审核人”应是一个列表，每人一项（- 姓名: … 加密公钥: …）")
        named = []
    for i, item in enumerate(named):
        here = f"/加密保存/审核人/{i}"
        name = _text(item.get("姓名")) if isinstance(item, dict) else ""
        if not isinstance(item, dict) or set(item) - {"姓名", "加密公钥"}:
            a.error(here, "每位审核人写成“姓名: … 加密公钥: …”（姓名与“人员”里的一致）")
        elif name not in by_name:
            a.error(f"{here}/姓名", f"“人员”里没有审核人 {name or '（空）'}：这里只补交“人员”中已有审核人的加密公钥，"
                    "不是审核人的经办人写在“经办人”下（要写工会）")
        elif by_name[name] in given:
            a.error(f"{here}/姓名", f"{name} 的加密公钥已写在“人员”里他的那一项，不要写两次")
        else:
            given[by_name[name]] = (f"{here}/加密公钥", _text(item.get("加密公钥")))
    for rid, r in reviewers.items():
        pointer, value = given.get(rid, (f"/人员/{place[rid]}/加密公钥", ""))
        add(pointer, rid, r["unit"], _read_age_key(a, pointer, value, r["name"]), r["keys"][0]["valid_from"], r["name"])
    clerks = section.get("经办人") or []
    if not isinstance(clerks, list):
        a.error("/加密保存/经办人", "“经办人”应是一个列表，每人一项（- 姓名: … 工会: … 加密公钥: …）")
        clerks = []
    by_unit_name = {u["name"]: uid for uid, u in units.items()}
    per_unit: dict = {}
    for i, c in enumerate(clerks):
        here = f"/加密保存/经办人/{i}"
        if not isinstance(c, dict):
            a.error(here, "每位经办人写成“姓名: … 工会: … 加密公钥: …”")
            continue
        for key in sorted(set(c) - CLERK_KEYS):
            a.error(f"{here}/{key}", f"不认识的项目“{key}”；经办人可写：{'、'.join(sorted(CLERK_KEYS))}")
        name = _text(c.get("姓名"))
        unit_text = _text(c.get("工会"))
        if not unit_text:
            hint = f"；{name} 是审核人的话，把加密公钥写在“人员”里他的那一项" if name in by_name else \
                f"；“人员”里也没有 {name}" if name else ""
            a.error(f"{here}/工会", f"经办人{name}缺少“工会”{hint}")
            continue
        uid = unit_text if unit_text in units else by_unit_name.get(unit_text)
        if uid is None:
            a.error(f"{here}/工会", f"“工会”{unit_text} 不在工会名单中（写工会全称或编号）")
            continue
        if name in by_name and reviewers[by_name[name]]["unit"] == uid:
            a.error(f"{here}/姓名", f"{name} 已是审核人（{by_name[name]}）：加密公钥写在“人员”里他的那一项，不要再作经办人登记")
            continue
        day = _text(c.get("生效日期")) or default_from
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            a.error(f"{here}/生效日期", f"“生效日期”{day} 应写成 2012-06-01 这样")
            continue
        n = per_unit[uid] = per_unit.get(uid, 0) + 1
        add(f"{here}/加密公钥", f"m-{uid}-{n:02d}", uid, _read_age_key(a, f"{here}/加密公钥", _text(c.get("加密公钥")), name or "经办人"),
            day, name or "经办人")
    if since is None or build is None or escrow is None:
        return None
    out = {"since": since}
    if retain is not None:
        out["retain_years"] = retain
    out.update({"build": build, "escrow": escrow, "members": members, "groups": {}})
    return out


# ---------------------------------------------------------------------------------------------
# The plan

def plan(answers_path: Path, target: Path, *, today: dt.date | None = None, env=None) -> Plan:
    """Read and check the questionnaire, and work out every file of the new repository; CityError
    (every problem, each with its line) before anything is written."""
    today = today or dt.date.today()
    a = _Answers(Path(answers_path))
    for key in sorted(set(a.tree) - TOP_KEYS):
        a.error(f"/{key}", f"不认识的项目“{key}”；问卷可写：{'、'.join(sorted(TOP_KEYS))}")
    city_name = _text(a.tree.get("市总工会"))
    if not city_name.endswith("总工会") or len(city_name) < 5:
        a.error("/市总工会", f"“市总工会”应写全称，例如 沈阳市总工会，不是“{city_name}”")
    place = citycon.place_of(city_name)
    code = _text(a.tree.get("编号")) or initials(place.removesuffix("市") or place)
    if not _CODE.match(code or ""):
        a.error("/编号", f"“编号”{code} 只能用小写字母、数字和连字符，以字母开头")
    areas = a.tree.get("区号")
    areas = [areas] if isinstance(areas, str) else areas
    if not isinstance(areas, list) or not areas or not all(isinstance(x, str) and citycon.AREA_CODE_RE.match(x) for x in areas):
        a.error("/区号", "“区号”应写本市固定电话的区号，以 0 开头，例如 [\"024\"]（可写几个）")
        areas = []
    phone = _text(a.tree.get("联系电话")) or None
    if phone and not ids.phone_ok(phone):
        a.error("/联系电话", f"“联系电话”{phone} 应为带区号和连字符的固定电话")
    forge = _text(a.tree.get("平台")) or "github"
    if forge not in FORGES:
        a.error("/平台", f"“平台”应为 github、gitea 或 forgejo，不是“{forge}”")
        forge = "github"
    campaign = a.tree.get("活动")
    if not isinstance(campaign, dict):
        a.error("/活动" if "活动" in a.tree else "", "缺少“活动”：第一个年度活动（按当年通知填写，写法同 data/campaigns/<年度>.yaml）")
        campaign = {}
    start = campaign.get("starts_on") if isinstance(campaign.get("starts_on"), str) else None
    default_from = min(today.isoformat(), start) if start else today.isoformat()
    units = _plan_units(a, city_name, code, areas, phone)
    reviewers = _plan_people(a, units, forge, default_from)
    sealing = _plan_sealing(a, units, reviewers, a.age_keys, campaign.get("year"), default_from) if not a.problems else None
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        a.problems.append(f"{target}: 目录已存在且不是空的；init-city 只在新的（或空的）目录里建库")
    if a.problems:
        raise CityError(a.problems)
    p = Plan(city_name, forge, units=units, reviewers=reviewers, sealing=sealing)
    p.roots = sorted(r["keys"][0]["fingerprint"] for r in reviewers.values() if r.get("admin"))
    if len(p.roots) < 2:
        p.warnings.append("只有一位管理员：他的密钥丢失后，没有人能再修改审核人登记；建议再登记一位")
    for uid, u in units.items():
        if UNIT_LEVEL[u["kind"]] == 2 and not any(r["unit"] == uid for r in reviewers.values()):
            p.warnings.append(f"{u['name']}（{uid}）还没有审核人：它下属工会的申请到第 2 级就审不下去，请尽早登记")
    p.files = _data_files(p, campaign, a, code)
    p.signing = _signing_check(target, p, env)
    _check_as_built(p)
    return p


def _dump(data: dict, kind: str, header: str) -> str:
    return header + fmt.render(data, kind)


def _data_files(p: Plan, campaign_tree: dict, a: _Answers, code: str) -> dict:
    """The city's data and own files, canonical as fmt writes them."""
    schema = layout.schema("campaign")
    campaign, problems = yamlstrict.coerce(campaign_tree, schema, f"{a.shown}（活动）", lambda ptr: a.line(f"/活动{ptr}"))
    if problems:
        raise CityError([f"{a.shown}:{pr.line}: {pr.message}" for pr in problems])
    year = campaign.get("year")
    if not isinstance(year, int):
        raise CityError([f"{a.shown}:{a.line('/活动')}: “活动”缺少 year（年度）"])
    files = {
        "data/units.yaml": _dump({"units": list(p.units.values())}, "units", f"# {p.city}的工会名单；改动须由管理员签名提交（见 docs/city.md）。\n"),
        "data/reviewers.yaml": _dump({"reviewers": [sealed.seal_reviewer(r, [p.sealing["build"], p.sealing["escrow"]]) if p.sealing else r
                                                    for r in p.reviewers.values()]}, "reviewers",
                                     f"# {p.city}的审核人登记；改动须由管理员签名提交（见 docs/trust.md）。\n"),
        f"data/campaigns/{year}.yaml": fmt.render(campaign, "campaign"),
        f"data/{registry.ROOT_FILE}": root_file_text(p.city, p.roots, p.reviewers),
        ".github/CODEOWNERS": codeowners.render(p.units, p.reviewers, "data", "github"),
        ".gitea/CODEOWNERS": codeowners.render(p.units, p.reviewers, "data", "gitea"),
        "README.md": readme_text(p.city, p.forge),
    }
    if p.sealing is not None:
        files["data/sealing.yaml"] = _dump(p.sealing, "sealing", f"# {p.city}的个人信息加密设置；改动须由管理员签名提交（见 docs/sealing.md）。\n")
    p.year = year
    return files


def root_file_text(city_name: str, roots: list, reviewers: dict) -> str:
    names = {r["keys"][0]["fingerprint"]: f"{r['id']} {r['name'][0]}*" for r in reviewers.values() if r.get("admin")}
    lines = [f"# {city_name}的信任根：市总工会管理员签名密钥的指纹（每行一个）。",
             "# 它只作记录：核验只认在仓库之外固定的信任根（git config jinqiu.rootKey 或平台变量 JINQIU_ROOT_KEY），",
             "# 两者须一致。审核人向市总工会（不是向仓库）核对这些指纹，见 docs/review.md。"]
    lines += [f"{fpr}  # {names.get(fpr, '')}".rstrip() for fpr in roots]
    return "\n".join(lines) + "\n"


def readme_text(city_name: str, forge: str) -> str:
    return f"""# {city_name} 金秋助学 · 阳光就业

本仓库是{city_name}“金秋助学”和“阳光就业”的数据仓库：每份申请一个文件（`data/`），每级审批是一次签名提交，
公开网站由它生成（`python3 build.py`），不含任何个人信息。仓库本身含有个人信息，**必须是私有仓库**。

- 管理员：[docs/city.md](docs/city.md)（建库、信任根、年度活动、发布、升级程序）
- 审核人：[docs/review.md](docs/review.md)（设置签名、固定信任根、审批、核验）
- 填报人：[docs/excel.md](docs/excel.md)（表格导入导出）
- 信任根和签名核验的原理：[docs/trust.md](docs/trust.md)

程序（`jinqiu/`、`schemas/`、`build.py` 等）来自金秋，版本见 `{VERSION_FILE}`；升级方法见 docs/city.md 第六节。
平台：{forge}。
"""


def _signing_check(target: Path, p: Plan, env) -> object:
    """The git identity and signing key this machine would sign the first commit with: an
    administrator's key, or CityError (nothing written)."""
    probe = Path(tempfile.mkdtemp(prefix="jinqiu-init-"))
    try:
        subprocess.run(["git", "init", "-q", str(probe)], check=True, capture_output=True)
        try:
            approve.check_identity(probe, env)
            signing = approve.signing_config(probe, env)
        except approve.ApproveError as exc:
            raise CityError([f"这台电脑还不能做签名提交：{exc}"]) from None
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if signing.fingerprint not in p.roots:
        admins = "、".join(f"{r['name']}（{r['keys'][0]['fingerprint']}）" for r in p.reviewers.values() if r.get("admin"))
        raise CityError([f"这台电脑的签名密钥 {signing.fingerprint} 不是问卷里任何一位管理员的公钥（管理员：{admins}）。"
                         "第一次提交须由管理员本人签名：请在管理员自己的电脑上运行，或检查 git config user.signingkey"])
    return signing


def _check_as_built(p: Plan) -> None:
    """Validate the data as the city's first build will (a temporary copy); CityError on any error."""
    with tempfile.TemporaryDirectory(prefix="jinqiu-init-check-") as tmp:
        root = Path(tmp) / "data"
        for rel, text in p.files.items():
            if rel.startswith("data/"):
                path = root / rel.removeprefix("data/")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        _, problems = validate.run(root, "data", jobs=1)
    errors = [f"（将写入的）{pr.path}:{pr.line}: {pr.message}" for pr in problems if pr.severity == ERROR]
    if errors:
        raise CityError(errors)


# ---------------------------------------------------------------------------------------------
# Writing

def code_files(source: Path = SOURCE) -> list[str]:
    """The code's files (CODE_PATHS), as repository paths: git's tracked and untracked-but-not-ignored
    files when the source is a git work tree, else every file (no caches)."""
    source = Path(source)
    if (source / ".git").exists():
        p = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *CODE_PATHS],
                           capture_output=True)
        if p.returncode == 0:
            return sorted({f for f in p.stdout.decode().split("\0") if f and (source / f).is_file()})
    out = []
    for top in CODE_PATHS:
        path = source / top
        if path.is_file():
            out.append(top)
        elif path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                    out.append(f.relative_to(source).as_posix())
    return out


def version_text(source: Path = SOURCE) -> str:
    """What .jinqiu-version says: the package version and, from git, the source's commit."""
    from .. import __version__

    commit = ""
    if (Path(source) / ".git").exists():
        p = subprocess.run(["git", "-C", str(source), "describe", "--always", "--dirty", "--abbrev=40"], capture_output=True, text=True)
        commit = p.stdout.strip() if p.returncode == 0 else ""
    return (f"# 本仓库的程序来自金秋的这个版本（init-city 或 upgrade 写入，请勿手改）\n"
            f"version: {__version__}\ncommit: {commit or 'unknown'}\n")


def copy_code(target: Path, source: Path = SOURCE) -> list[str]:
    """Copy the code into target (modes kept); returns the paths copied."""
    files = code_files(source)
    for rel in files:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, dest)
    (target / VERSION_FILE).write_text(version_text(source), encoding="utf-8")
    return files


def mkdocs_with(text: str, site_name: str | None = None, site_url: str | None = None, repository: str | None = None) -> str:
    """mkdocs.yml with the city's own settings (each a one-line YAML value) put in."""
    import json

    for pattern, value in ((r"(?m)^site_name: .*$", site_name), (r"(?m)^site_url: .*$", site_url), (r"(?m)^  repository: .*$", repository)):
        if value:
            key = pattern.split(":")[0].removeprefix("(?m)^")
            text = re.sub(pattern, lambda m: f"{key}: {json.dumps(value, ensure_ascii=False)}", text, count=1)
    return text


def _git(repo: Path, *args: str, env=None) -> str:
    p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if p.returncode:
        raise CityError([f"git {args[0]} 失败：{p.stderr.strip()}"])
    return p.stdout.strip()


def create(p: Plan, target: Path, answers_path: Path, *, env=None, source: Path = SOURCE) -> str:
    """Write the repository planned and make its first commit, signed by the administrator;
    returns the commit. The root is pinned in the repository's git config (jinqiu.rootKey)."""
    a = _Answers(Path(answers_path))
    target = Path(target)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise CityError([f"{target}: 目录已存在且不是空的；init-city 只在新的（或空的）目录里建库"])
    try:
        copy_code(target, source)
        mk = target / "mkdocs.yml"
        mk.write_text(mkdocs_with(mk.read_text(encoding="utf-8"), f"{p.city} 金秋助学 · 阳光就业 进度公开",
                                  _text(a.tree.get("网站地址")) or None, _text(a.tree.get("仓库网页地址")) or None), encoding="utf-8")
        for rel, text in p.files.items():
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _git(target, "init", "-q", "-b", "main")
        for fpr in p.roots:
            _git(target, "config", "--add", anchor.ROOT_CONFIG, fpr)
        _git(target, "add", "-A")
        message = f"建库：{p.city} 金秋助学（{p.year} 年度活动，{len(p.units)} 个工会，{len(p.reviewers)} 位审核人）"
        _git(target, "commit", "-q", "-S", "-m", message, env=env)
    except BaseException:  # nothing half-made is left behind
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            for child in target.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() and not child.is_symlink() else child.unlink()
        raise
    return _git(target, "rev-parse", "HEAD")
