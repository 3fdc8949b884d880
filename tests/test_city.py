"""A real city from zero (issue 17): 沈阳市总工会, area code 024, made with `init-city` from a
questionnaire by its own four people (real ssh-keygen keys); an application filed and approved at
each level with real signed commits, a green build, nothing of Dalian anywhere it shows; no commit
can make TEST keys count there; a workflow run without a pinned root fails; a later version of the
code goes in without touching the data.

Every command is the city's own copy of build.py, run as a separate process, as the office runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, id_number

from jinqiu.edit import newcity
from jinqiu.sample import generate
from jinqiu.trust import testkeys

ROOT = Path(__file__).resolve().parent.parent
# login -> (name, union, administrator)
PEOPLE = {"liming": ("李明", "沈阳市总工会", True), "wangfang": ("王芳", "沈阳市总工会", True),
          "zhaogang": ("赵刚", "沈阳市和平区总工会", False), "sunli": ("孙丽", "沈阳某机床厂工会", False)}
CAMPAIGN = """\
活动:
  year: 2012
  title: "2012年“金秋助学”活动和困难职工家庭高校毕业生“阳光就业”行动"
  notice: 沈工办发〔2012〕15号
  issuer: 沈阳市总工会
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
"""
UNIONS = """\
工会:
- 名称: 沈阳市和平区总工会
  类别: 区总工会
  下属:
  - 名称: 沈阳某机床厂工会
    类别: 企业工会
  - 名称: 和平区某街道工会
    类别: 街道工会
- 名称: 沈阳市铁西区总工会
  类别: 区总工会
  下属:
  - 名称: 铁西某重工公司工会
    类别: 企业工会
"""
APP = "data/applications/2012/sy-hp-0001/2012-sy-hp-0001-001.yaml"
DALIAN = ("大连", "0411", "dl-")


def people_yaml(people=PEOPLE) -> str:
    lines = ["人员:"]
    for login, (name, unit, admin) in people.items():
        lines += [f"- 姓名: {name}", f"  工会: {unit}"] + (["  管理员: 是"] if admin else []) + \
                 [f"  公钥: 公钥/{login}.pub", f"  平台账号: {login}"]
    return "\n".join(lines) + "\n"


def answers_text(unions=UNIONS, people=PEOPLE, head="市总工会: 沈阳市总工会\n区号: [\"024\"]\n联系电话: \"024-22345678\"\n平台: gitea\n") -> str:
    return head + unions + people_yaml(people) + CAMPAIGN


def keygen(folder: Path, login: str) -> Path:
    key = folder / login
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{login}@shenyang", "-f", str(key)],
                       check=True, capture_output=True)
    return key


def person(keys: Path, login: str) -> dict:
    """The environment of one person's own machine: git identity and signing key (their global config)."""
    name = PEOPLE.get(login, (login,))[0]
    key = keys / login
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": f"{login}@example.cn", "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": f"{login}@example.cn", "GIT_CONFIG_COUNT": "2",
            "GIT_CONFIG_KEY_0": "gpg.format", "GIT_CONFIG_VALUE_0": "ssh",
            "GIT_CONFIG_KEY_1": "user.signingkey", "GIT_CONFIG_VALUE_1": str(key)}


class Office:
    """The city office's folder: the questionnaire, the keys the four people sent, and a log of every
    message the commands printed."""

    def __init__(self, root: Path):
        self.root = root
        self.keys = root / "keys"  # each person's own key pair (on their own machine, in life)
        self.pub = root / "公钥"  # what they sent to the office
        self.keys.mkdir(parents=True, exist_ok=True)
        self.pub.mkdir(exist_ok=True)
        for login in PEOPLE:
            shutil.copy(keygen(self.keys, login).with_suffix(".pub"), self.pub / f"{login}.pub")
        self.messages: list[str] = []

    def run(self, cwd: Path, *argv, who: str | None = "liming", env=None, build: Path | None = None):
        full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        full.update(HOME=str(self.root / "home"), **(person(self.keys, who) if who else {}), **(env or {}))
        (self.root / "home").mkdir(exist_ok=True)
        p = subprocess.run(["python3", str(build or cwd / "build.py"), *map(str, argv)], cwd=cwd, env=full,
                           capture_output=True, text=True)
        self.messages += [p.stdout, p.stderr]
        return p

    def git(self, cwd: Path, *argv, who: str | None = None, env=None) -> str:
        full = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        full.update(HOME=str(self.root / "home"), **(person(self.keys, who) if who else
                                                     {"GIT_AUTHOR_NAME": "填报人", "GIT_AUTHOR_EMAIL": "clerk@example.cn",
                                                      "GIT_COMMITTER_NAME": "填报人", "GIT_COMMITTER_EMAIL": "clerk@example.cn"}),
                    **(env or {}))
        p = subprocess.run(["git", "-C", str(cwd), *argv], env=full, capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()


def status_of(stdout: str, path: str) -> str | None:
    """The status `verify --status` gives a file (its path ends with path's file name)."""
    name = Path(path).name
    return next((line.split(": ", 1)[1] for line in stdout.splitlines() if line.split(": ", 1)[0].endswith(name)), None)


def init_city(office: Office, text: str, name="沈阳金秋", who="liming"):
    (office.root / "建库.yaml").write_text(text, encoding="utf-8")
    return office.run(office.root, "init-city", name, "--answers", "建库.yaml", who=who, build=ROOT / "build.py")


def sheet(path: Path, phone) -> Path:
    """附件1 as a clerk of 沈阳某机床厂工会 types it; the phone as Excel stored it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS_NEW)
    ws.append(["2012-07-20", "刘建国", "男", "1966-04", "沈阳某机床厂", id_number(region="210102", birth="19660415", seq=31),
               "沈阳市和平区南京北街8号", phone, 3, 850.5, "下岗", "疾病致困", "刘小雨", "东北大学", "机械工程", "本科", 2012,
               "是", "否", "是", "是", "是", 5000])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """沈阳市总工会's repository, made by init-city, with one application filed and approved at each
    level (real signed commits by three different people), then built."""
    office = Office(tmp_path_factory.mktemp("shenyang"))
    p = init_city(office, answers_text())
    assert p.returncode == 0, p.stdout + p.stderr
    repo = office.root / "沈阳金秋"
    office.created = p
    # a clerk of 沈阳某机床厂工会 imports the sheet (Excel dropped the 0 of the landline) and commits it
    p = office.run(repo, "import", sheet(office.root / "附件1.xlsx", 2423456789), "--unit", "沈阳某机床厂工会", who=None)
    assert p.returncode == 0, p.stdout + p.stderr
    office.imported = p
    office.git(repo, "add", "data")
    office.git(repo, "commit", "-q", "-m", "沈阳某机床厂工会：填报 1 份申请")
    for login, opinion in (("sunli", "情况属实，同意上报"), ("zhaogang", "审核通过，同意上报"), ("liming", "同意资助")):
        p = office.run(repo, "approve", APP, "--opinion", opinion, who=login)
        assert p.returncode == 0, p.stdout + p.stderr
    office.built = office.run(repo, "build", "--no-pdf", who=None)
    return office, repo


def test_the_first_commit_is_the_citys_signed_by_an_administrator_and_holds_nothing_of_the_sample(city):
    office, repo = city
    first = office.git(repo, "rev-list", "--max-parents=0", "HEAD").split()
    assert len(first) == 1
    assert office.git(repo, "log", "-1", "--format=%s", first[0]).startswith("建库：沈阳市总工会")
    files = office.git(repo, "ls-tree", "-r", "--name-only", first[0]).splitlines()
    data = sorted(f for f in files if f.startswith("data/"))
    assert data == ["data/campaigns/2012.yaml", "data/reviewers.yaml", "data/root-of-trust.txt", "data/units.yaml"]
    assert {".github/workflows/publish.yml", ".gitea/workflows/publish.yml", ".github/CODEOWNERS", ".gitea/CODEOWNERS",
            "build.py", "jinqiu/cli.py", "schemas/application.schema.json", "mkdocs.yml", "site_src/apply.md",
            newcity.VERSION_FILE, "docs/city.md"} <= set(files)
    assert not any(f.startswith(("tests/", "bench/", "data/applications/")) for f in files)
    for rel in data + ["mkdocs.yml", "README.md", ".gitea/CODEOWNERS", ".github/CODEOWNERS"]:
        text = (repo / rel).read_text(encoding="utf-8")
        assert not any(word in text for word in DALIAN), rel
        assert "TEST" not in text, rel
    admins = sorted(subprocess.run(["ssh-keygen", "-l", "-f", str(office.pub / f"{who}.pub")], capture_output=True,
                                   text=True).stdout.split()[1] for who in ("liming", "wangfang"))
    assert sorted(office.git(repo, "config", "--get-all", "jinqiu.rootKey").split()) == admins
    assert [line.split()[0] for line in (repo / "data/root-of-trust.txt").read_text().splitlines()
            if line.startswith("SHA256:")] == admins
    units = (repo / "data/units.yaml").read_text(encoding="utf-8")
    for code in ("id: sy\n", "id: sy-hp\n", "id: sy-hp-0001\n", "id: sy-hp-0002\n", "id: sy-tx\n", "id: sy-tx-0001\n"):
        assert code in units
    assert '- "024"' in units
    assert "gitea: zhaogang" in (repo / "data/reviewers.yaml").read_text(encoding="utf-8")
    assert "@zhaogang" in (repo / ".gitea/CODEOWNERS").read_text(encoding="utf-8")
    assert "SHA256:" in office.created.stdout and "JINQIU_ROOT_KEY" in office.created.stdout


def test_filed_and_approved_at_each_level_it_builds_with_no_error(city):
    office, repo = city
    assert office.built.returncode == 0, office.built.stdout + office.built.stderr
    assert "error" not in office.built.stdout
    p = office.run(repo, "verify", "--status", who=None)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 个错误" in p.stderr
    assert status_of(p.stdout, APP) == "市总工会审批通过（审批完成）"
    signers = office.git(repo, "log", "--format=%an %G?", "-3").splitlines()
    assert [s.split()[0] for s in signers] == ["李明", "赵刚", "孙丽"]
    # the city's own landline repaired with its own area code
    assert "本市区号 024" in office.imported.stdout + office.imported.stderr
    assert 'phone: "024-23456789"' in (repo / APP).read_text(encoding="utf-8")
    for check in (("fmt", "--check"), ("codeowners", "--check")):
        p = office.run(repo, *check, who=None)
        assert p.returncode == 0, p.stdout + p.stderr


def _texts(folder: Path):
    """Every file's text under folder, unpacking .xlsx and other zip archives."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        if raw[:2] == b"PK":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    yield f"{path}!{name}", z.read(name).decode("utf-8", "replace")
        else:
            yield str(path), raw.decode("utf-8", "replace")


def test_nothing_of_dalian_in_its_site_templates_forms_or_messages(city, tmp_path):
    office, repo = city
    for form in ("new", "continuing", "local", "graduate"):
        p = office.run(repo, "export", "--template", form, "--out", tmp_path / f"{form}.xlsx", who=None)
        assert p.returncode == 0, p.stderr
    scratch = tmp_path / "scratch"
    shutil.copytree(repo / "data", scratch)
    p = office.run(repo, "new", "application", "--unit", "sy-tx-0001", "--year", "2012", "--data", scratch, who=None)
    assert p.returncode == 0, p.stderr
    # messages a clerk meets: a bad landline in a sheet, a bad phone in a file, a union that does not exist
    office.run(repo, "import", sheet(tmp_path / "bad.xlsx", 84123456), "--unit", "sy-hp-0001", who=None)
    bad = tmp_path / "bad"
    shutil.copytree(repo / "data", bad)
    (bad / APP.removeprefix("data/")).write_text((repo / APP).read_text(encoding="utf-8").replace("024-23456789", "24-2345678"),
                                                 encoding="utf-8")
    p = office.run(repo, "validate", "--data", bad, who=None)
    assert p.returncode == 1 and "024-" in p.stdout, p.stdout
    office.run(repo, "--help", who=None)
    seen = 0
    for where, text in [*_texts(repo / "site"), *_texts(repo / "private"), *_texts(tmp_path),
                        *(("消息", m) for m in office.messages)]:
        seen += 1
        assert not [w for w in ("大连", "0411") if w in text], where
    assert seen > 50
    assert "和平区" in (repo / "site" / "search" / "search_index.json").read_text(encoding="utf-8")


def test_an_unsigned_commit_installing_test_keys_counts_nothing(city, tmp_path):
    """Anyone with write access swaps the root file and the registry for the published TEST keys and
    approves with them: in a clone with no pinned root nothing counts and verify says why; where the
    root is pinned the TEST keys are refused."""
    office, repo = city
    clone = tmp_path / "clone"
    office.git(tmp_path, "clone", "-q", str(repo), str(clone))
    assert subprocess.run(["git", "-C", str(clone), "config", "--get-all", "jinqiu.rootKey"]).returncode == 1  # a clone pins nothing
    reg = (clone / "data/reviewers.yaml").read_text(encoding="utf-8")
    keys = tmp_path / "testkeys"
    keys.mkdir()
    root_lines = []
    for rid in ("r-sy-01", "r-sy-02", "r-sy-hp-01", "r-sy-hp-0001-01"):
        secret = testkeys.secret(2011, rid)
        public = testkeys.ed25519_public(secret)
        line = f"ssh-ed25519 {__import__('base64').b64encode(testkeys.key_blob(public)).decode()} jinqiu-TEST-KEY-{rid}"
        (keys / rid).write_text(generate.ssh_private_pem(secret, public, rid), encoding="utf-8")
        (keys / rid).chmod(0o600)
        (keys / f"{rid}.pub").write_text(line + "\n", encoding="utf-8")
        start = reg.index(f"- id: {rid}\n")
        block_keys = reg.index("  - type: ssh\n", start)
        end = reg.find("\n- id:", block_keys)
        end = len(reg) if end < 0 else end + 1
        reg = reg[:block_keys] + f"  - type: ssh\n    public_key: {line}\n    valid_from: \"2012-07-01\"\n" + reg[end:]
        if rid.startswith("r-sy-0"):
            root_lines.append(testkeys.fingerprint(testkeys.key_blob(public)))
    (clone / "data/reviewers.yaml").write_text(reg, encoding="utf-8")
    (clone / "data/root-of-trust.txt").write_text("\n".join(root_lines) + "\n", encoding="utf-8")
    office.git(clone, "commit", "-qam", "换成测试密钥")  # unsigned
    second = clone / "data/applications/2012/sy-hp-0001/2012-sy-hp-0001-002.yaml"
    second.write_text((repo / APP).read_text(encoding="utf-8").split("approvals:")[0].replace("-001", "-002")
                      .replace("刘小雨", "刘小雪"), encoding="utf-8")
    office.git(clone, "add", "data")
    office.git(clone, "commit", "-qm", "填报")
    for rid in ("r-sy-hp-0001-01", "r-sy-hp-01", "r-sy-01"):
        env = {**person(keys, rid), "GIT_CONFIG_VALUE_1": str(keys / rid)}
        p = office.run(clone, "approve", second.relative_to(clone), "--opinion", "同意", who=None, env=env)
        assert p.returncode == 0, p.stdout + p.stderr
    p = office.run(clone, "verify", "--status", "--no-cache", who=None)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "root-of-trust.txt" in p.stdout and "测试密钥在这里一律不予承认" in p.stdout
    assert "审批完成" not in p.stdout and status_of(p.stdout, second.name) == "已填报"
    # the city's own clone, root pinned by init-city: the TEST keys are refused, the change does not take effect
    office.git(repo, "pull", "-q", "--no-rebase", str(clone), "main")
    p = office.run(repo, "verify", "--status", "--no-cache", who=None)
    assert p.returncode == 1 and status_of(p.stdout, second.name) == "已填报", p.stdout
    assert "没有签名" in p.stdout and "公开的测试密钥" in p.stdout  # the unsigned change, and the TEST keys, refused
    office.git(repo, "reset", "-q", "--hard", "HEAD~5")


def test_a_workflow_run_without_a_pinned_root_fails(city, tmp_path):
    office, repo = city
    clone = tmp_path / "ci"
    office.git(tmp_path, "clone", "-q", str(repo), str(clone))
    for variable in ("CI", "GITEA_ACTIONS"):
        p = office.run(clone, "build", "--no-forms", who=None, env={variable: "true"})
        assert p.returncode == 1, p.stdout + p.stderr
        assert "JINQIU_ROOT_KEY" in p.stdout and "工作流" in p.stdout
    roots = office.git(repo, "config", "--get-all", "jinqiu.rootKey").split()
    p = office.run(clone, "build", "--no-forms", who=None, env={"CI": "true", "JINQIU_ROOT_KEY": " ".join(roots)})
    assert p.returncode == 0, p.stdout + p.stderr
    p = office.run(clone, "verify", "--status", who=None, env={"CI": "true", "JINQIU_ROOT_KEY": " ".join(roots)})
    assert status_of(p.stdout, APP) == "市总工会审批通过（审批完成）"


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.replace("  公钥: 公钥/zhaogang.pub\n", ""), "缺少“公钥”"),
    (lambda t: t.replace("  平台账号: sunli\n", ""), "缺少“平台账号”"),
    (lambda t: t.replace("  工会: 沈阳某机床厂工会\n  公钥: 公钥/sunli.pub", "  工会: 沈阳某机床厂工会\n  管理员: 是\n  公钥: 公钥/sunli.pub"),
     "管理员须是市总工会的人"),
    (lambda t: t.replace("  - 名称: 和平区某街道工会\n    类别: 街道工会\n", "").replace(
        "- 名称: 沈阳市铁西区总工会", "- 名称: 和平区某街道工会\n  类别: 街道工会\n- 名称: 沈阳市铁西区总工会"), "没有上级工会"),
    (lambda t: t.replace("类别: 企业工会", "类别: 公司工会", 1), "“类别”应为"),
    (lambda t: t.replace("区号: [\"024\"]", "区号: [\"24\"]"), "“区号”"),
    (lambda t: t.replace("公钥/wangfang.pub", "公钥/liming.pub"), "一把钥匙只能属于一个人"),
    (lambda t: t.replace("  materials_due: \"2012-08-10\"\n", ""), "申报材料截止日期"),
])
def test_what_would_fail_later_is_refused_before_anything_is_written(tmp_path, change, expected):
    office = Office(tmp_path)
    p = init_city(office, change(answers_text()))
    assert p.returncode == 1, p.stdout + p.stderr
    assert expected in p.stdout and "建库.yaml:" in p.stdout + p.stderr or "将写入的" in p.stdout, p.stdout
    assert "没有建库" in p.stderr
    assert not (tmp_path / "沈阳金秋").exists()


def test_a_test_key_or_a_signer_who_is_not_an_administrator_is_refused(tmp_path):
    office = Office(tmp_path)
    rid = "r-sy-hp-0001-01"
    secret = testkeys.secret(2011, rid)
    blob = testkeys.key_blob(testkeys.ed25519_public(secret))
    (office.pub / "sunli.pub").write_text(f"ssh-ed25519 {__import__('base64').b64encode(blob).decode()} 孙丽\n", encoding="utf-8")
    p = init_city(office, answers_text())
    assert p.returncode == 1 and "测试密钥" in p.stdout, p.stdout
    shutil.copy(office.keys / "sunli.pub", office.pub / "sunli.pub")
    p = init_city(office, answers_text(), who="zhaogang")
    assert p.returncode == 1 and "不是问卷里任何一位管理员的公钥" in p.stdout, p.stdout
    assert not (tmp_path / "沈阳金秋").exists()


def test_unions_from_a_spreadsheet_get_codes_from_their_names(tmp_path):
    office = Office(tmp_path)
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["名称", "类别", "上级工会", "编号", "联系电话"],
                ["沈阳市和平区总工会", "区总工会", None, None, "024-23456789"],
                ["沈阳某机床厂工会", "企业工会", "沈阳市和平区总工会", None, None],
                ["和平区某街道工会", "街道工会", "沈阳市和平区总工会", None, None],
                ["沈阳市铁西区总工会", "区总工会", "", "sy-txq", None],
                ["铁西某重工公司工会", "企业工会", "sy-txq", None, None],
                ["新民市总工会", "县级市总工会", None, None, None],
                ["沈阳市机械冶金工会", "产业工会", None, None, None]):
        ws.append(row)
    wb.save(tmp_path / "工会名单.xlsx")
    people = {k: v for k, v in PEOPLE.items()}
    p = init_city(office, answers_text(unions="工会名单: 工会名单.xlsx\n", people=people))
    assert p.returncode == 0, p.stdout + p.stderr
    units = (tmp_path / "沈阳金秋/data/units.yaml").read_text(encoding="utf-8")
    for code, name in (("sy-hp", "沈阳市和平区总工会"), ("sy-hp-0001", "沈阳某机床厂工会"), ("sy-hp-0002", "和平区某街道工会"),
                       ("sy-txq", "沈阳市铁西区总工会"), ("sy-txq-0001", "铁西某重工公司工会"), ("sy-xm", "新民市总工会"),
                       ("sy-jxyj", "沈阳市机械冶金工会")):
        assert f"- id: {code}\n  name: {name}\n" in units, code
    assert "还没有审核人" in p.stderr  # 铁西, 新民 and the industry union: said, not refused
    orphan = tmp_path / "orphan"
    orphan.mkdir()
    office2 = Office(orphan)
    wb = openpyxl.Workbook()
    wb.active.append(["名称", "类别", "上级工会"])
    wb.active.append(["沈阳市和平区总工会", "区总工会", None])
    wb.active.append(["沈阳某机床厂工会", "企业工会", None])
    wb.save(orphan / "工会名单.xlsx")
    p = init_city(office2, answers_text(unions="工会名单: 工会名单.xlsx\n"))
    assert p.returncode == 1 and "工会名单.xlsx!Sheet!3: 基层工会“沈阳某机床厂工会”没有上级工会" in p.stdout, p.stdout


def test_the_questionnaire_template_names_no_city_and_is_refused_until_filled(tmp_path):
    office = Office(tmp_path)
    p = office.run(tmp_path, "init-city", "--template", "建库.yaml", build=ROOT / "build.py")
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "建库.yaml").read_text(encoding="utf-8")
    assert not any(word in text for word in DALIAN)
    p = office.run(tmp_path, "init-city", "新仓库", "--answers", "建库.yaml", build=ROOT / "build.py")
    assert p.returncode == 1 and "建库.yaml:" in p.stdout and not (tmp_path / "新仓库").exists()


def test_upgrading_to_a_later_version_changes_the_code_only(tmp_path):
    """A city made with this code, then upgraded to a later commit of it (made here: a changed page,
    a removed file, a new module): one signed commit by an administrator on top of the city's
    history, nothing under data/ changed, a green build."""
    office = Office(tmp_path)
    src = tmp_path / "jinqiu-old"
    for rel in newcity.code_files(ROOT):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    office.git(tmp_path, "init", "-q", "-b", "main", str(src))
    office.git(src, "add", "-A")
    office.git(src, "commit", "-qm", "old")
    (office.root / "建库.yaml").write_text(answers_text(), encoding="utf-8")
    p = office.run(office.root, "init-city", "沈阳金秋", "--answers", "建库.yaml", build=src / "build.py")
    assert p.returncode == 0, p.stdout + p.stderr
    city_repo = tmp_path / "沈阳金秋"
    before = office.git(city_repo, "rev-parse", "HEAD")
    new = tmp_path / "jinqiu-new"
    office.git(tmp_path, "clone", "-q", str(src), str(new))
    (new / "site_src/apply.md").write_text((new / "site_src/apply.md").read_text(encoding="utf-8") + "\n新版本的说明。\n", encoding="utf-8")
    (new / "jinqiu/newthing.py").write_text('"""A module the later version adds."""\n', encoding="utf-8")
    office.git(new, "rm", "-q", "docs/excel.md")
    office.git(new, "add", "-A")
    office.git(new, "commit", "-qm", "later")
    later = office.git(new, "rev-parse", "HEAD")
    p = office.run(city_repo, "upgrade", city_repo, who="zhaogang", build=new / "build.py")
    assert p.returncode == 1 and "不是本市登记的管理员" in p.stdout, p.stdout  # a reviewer, not an administrator
    assert office.git(city_repo, "rev-parse", "HEAD") == before
    p = office.run(city_repo, "upgrade", city_repo, who="wangfang", build=new / "build.py")
    assert p.returncode == 0, p.stdout + p.stderr
    assert office.git(city_repo, "rev-parse", "HEAD~1") == before
    assert office.git(city_repo, "diff", "--name-only", "HEAD~1", "HEAD", "--", "data") == ""
    changed = set(office.git(city_repo, "diff", "--name-only", "HEAD~1", "HEAD").splitlines())
    assert changed == {"site_src/apply.md", "jinqiu/newthing.py", "docs/excel.md", newcity.VERSION_FILE}
    assert later in (city_repo / newcity.VERSION_FILE).read_text(encoding="utf-8")
    assert "沈阳市总工会" in (city_repo / "mkdocs.yml").read_text(encoding="utf-8")  # the city's site name kept
    assert office.git(city_repo, "log", "-1", "--format=%an") == "王芳"
    p = office.run(city_repo, "build", "--no-forms", who=None)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "新版本的说明" in (city_repo / "site/apply.html").read_text(encoding="utf-8")
    p = office.run(city_repo, "upgrade", city_repo, who="wangfang", build=new / "build.py")
    assert p.returncode == 0 and "无需升级" in p.stdout


def test_the_samples_test_root_counts_in_a_full_history_that_was_always_test_and_not_in_a_shallow_clone(tmp_path):
    """The project's own sample still shows verified approvals (a TEST root, said to be one); a
    shallow clone cannot show that the repository never had a real root, so it counts nothing."""
    office = Office(tmp_path)
    sample = tmp_path / "sample"
    subprocess.run(["python3", "-m", "jinqiu.sample", str(sample / "data"), "--applications", "12"], cwd=ROOT, check=True,
                   capture_output=True)
    office.git(tmp_path, "init", "-q", "-b", "main", str(sample))
    office.git(sample, "add", "-A")
    office.git(sample, "commit", "-qm", "示例数据")
    (sample / "README.md").write_text("示例\n", encoding="utf-8")
    office.git(sample, "add", "-A")
    office.git(sample, "commit", "-qm", "说明")
    p = office.run(sample, "verify", "--data", sample / "data", "--status", who=None, build=ROOT / "build.py")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "测试密钥（TEST KEYS）" in p.stdout and "审批完成" in p.stdout
    shallow = tmp_path / "shallow"
    office.git(tmp_path, "clone", "-q", "--depth", "1", sample.as_uri(), str(shallow))
    p = office.run(shallow, "verify", "--data", shallow / "data", "--status", who=None, build=ROOT / "build.py")
    assert p.returncode == 1 and "浅克隆" in p.stdout and "审批完成" not in p.stdout, p.stdout
