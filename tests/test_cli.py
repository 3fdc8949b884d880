"""The validate command as a user meets it: formats, exit codes, masking, the cache."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from jinqiu import cli

ROOT = Path(__file__).resolve().parent.parent
A4 = "applications/2011/dl-jx-0001/2011-dl-jx-0001-001.yaml"


def run(*args, cwd=None):
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *args], capture_output=True, text=True, cwd=cwd)
    return proc.returncode, proc.stdout, proc.stderr


def _break_id(data: Path) -> None:
    path = data / A4
    text = path.read_text(encoding="utf-8")
    number = next(line.split('"')[1] for line in text.splitlines() if "id_number" in line)
    path.write_text(text.replace(number, number[:17] + ("1" if number[17] != "1" else "2")), encoding="utf-8")


def test_clean_tree_exits_0(base_data):
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 0, err
    assert out == ""
    assert "0 个错误" in err


def test_errors_exit_1_text_format_masks_the_id(base_data):
    _break_id(base_data)
    code, out, err = run("validate", "--data", str(base_data), "--no-cache")
    assert code == 1
    line = out.strip().splitlines()[0]
    assert line.startswith(f"{base_data}/{A4}:")
    assert ": error: " in line and "身份证号码" in line
    assert "2102**********" in line
    number = next(l.split('"')[1] for l in (base_data / A4).read_text(encoding="utf-8").splitlines() if "id_number" in l)
    assert number not in out + err
    assert "1 个错误" in err


def test_json_format(base_data):
    _break_id(base_data)
    code, out, _ = run("validate", "--data", str(base_data), "--format", "json")
    assert code == 1
    problems = json.loads(out)
    assert problems[0]["pointer"] == "/worker/id_number"
    assert problems[0]["code"] == "id-number-invalid"
    assert problems[0]["severity"] == "error"
    assert problems[0]["line"] > 1
    assert set(problems[0]) == {"path", "line", "pointer", "code", "message", "severity"}


def test_github_format(base_data):
    _break_id(base_data)
    code, out, _ = run("validate", "--data", str(base_data), "--format", "github")
    assert code == 1
    assert out.startswith(f"::error file={base_data}/{A4},line=")


def test_warnings_alone_exit_0(base_data):
    path = base_data / A4
    path.write_text(path.read_text(encoding="utf-8").replace('filed_on: "2011-07-15"', 'filed_on: "2011-08-12"'), encoding="utf-8")
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 0
    assert ": warning: " in out


def test_usage_errors_exit_2_without_traceback(tmp_path):
    for args in (["validate", "--data", str(tmp_path / "missing")], ["validate", "--format", "xml"], ["no-such-command"]):
        code, out, err = run(*args)
        assert code == 2, args
        assert "Traceback" not in out + err
        assert "用法错误" in err or "错误" in err


def test_every_problem_is_reported_not_only_the_first(base_data):
    _break_id(base_data)
    (base_data / "applications/2011/dl-zs-0002/2011-dl-zs-0002-001.yaml").write_bytes(b"worker: [unclosed\n")
    (base_data / "reports/2011/dl-zs.yaml").write_bytes("unit: 大连".encode("gbk"))
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1
    assert "Traceback" not in out + err
    lines = out.strip().splitlines()
    assert any("dl-zs-0002-001.yaml:1:" in l or "dl-zs-0002-001.yaml:2:" in l for l in lines)
    assert any("reports/2011/dl-zs.yaml:1:" in l and "UTF-8" in l for l in lines)
    assert any("id_number" not in l and "身份证号码" in l for l in lines)


def test_a_file_in_the_wrong_place_is_reported(base_data):
    (base_data / "applications" / "stray.yaml").write_text("id: x\n", encoding="utf-8")
    code, out, _ = run("validate", "--data", str(base_data))
    assert code == 1
    assert "applications/stray.yaml:1: error: 不认识的数据文件位置" in out


def test_cache_answers_an_unchanged_tree_and_never_hides_a_change(base_data):
    code, _, err = run("validate", "--data", str(base_data))
    assert code == 0 and "缓存" not in err
    # make the stored time stamps old enough to be trusted
    past = time.time() - 60
    for p in base_data.rglob("*.yaml"):
        os.utime(p, (past, past))
    run("validate", "--data", str(base_data))
    code, _, err = run("validate", "--data", str(base_data))
    assert code == 0 and "缓存" in err
    # same size, modification time put back: still seen (ctime changes on every write)
    path = base_data / A4
    stat = path.stat()
    _break_id(base_data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    code, out, err = run("validate", "--data", str(base_data))
    assert code == 1 and "缓存" not in err
    assert "id-number" not in out and "身份证号码" in out


def test_every_command_has_help():
    parser = cli.parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description, name
        assert name in cli.COMMANDS


def test_codeowners_is_up_to_date():
    code, out, err = run("codeowners", "--check", cwd=ROOT)
    assert code == 0, out + err


def test_a_mistyped_number_is_named_by_its_label_once(base_data):
    path = base_data / A4
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("household_size: 3", "household_size: ３").replace("amount: 800", "amount: 1_000"), encoding="utf-8")
    code, out, _ = run("validate", "--data", str(base_data))
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2, lines
    assert "“家庭人口”应为整数" in lines[0] and "全角" in lines[0]
    assert "“助学资金”应为数字" in lines[1] and "1_000" in lines[1]


def test_output_cut_short_by_a_pipe_is_no_traceback(base_data):
    _break_id(base_data)
    text = (base_data / A4).read_text(encoding="utf-8")
    for i in range(2, 400):  # far more output than a pipe holds
        (base_data / A4).with_name(f"2011-dl-jx-0001-{i:03d}.yaml").write_text(text, encoding="utf-8")
    proc = subprocess.run(f'{sys.executable} {ROOT / "build.py"} validate --data {base_data} | head -c 1',
                          shell=True, capture_output=True, text=True)
    assert "Traceback" not in proc.stderr
