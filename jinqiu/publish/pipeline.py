"""build: validate, derive statuses and statistics, write the public site and the private outputs,
then prove the site holds no personal data. Each stage is a function; this module only wires them."""

from __future__ import annotations

import functools
import gc
import io
import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..check import cache, validate
from . import asof, buildmemo, privacy, site, statistics, timeline
from ..trust import forge, verify, when
from ..problems import ERROR, Problem, has_errors


class BuildError(Exception):
    """The build cannot go on; the message is one line for people."""


# ---------------------------------------------------------------- statuses

# Statuses come from verify: only approvals it proved count (jinqiu.trust.status.derive, read as rounds); the site
# says "经签名核验" only when verify had a root of trust in force (verify.Statuses.verified).


def chain_end(units: dict, record: dict) -> int:
    """The approval level the chain ends at: the level of the union that funds the aid."""
    funder = units.get((record.get("aid") or {}).get("funding_unit"), {})
    return site.LEVEL_OF_KIND.get(funder.get("kind"), 3)


def statuses(dataset, env=None, use_cache: bool = True) -> tuple[dict, list]:
    """(application id -> Status derived from verified approvals only, verify's problems). When a
    forge token is configured (env, default os.environ), web reviews are checked through the forge's
    API and count like signed approvals."""
    try:
        checker = forge.checker_from_env(os.environ if env is None else env)
    except forge.ForgeConfigError as exc:
        raise BuildError(str(exc)) from None
    by_rel, problems = verify.run(None, dataset.root, display_root=dataset.display_root, dataset=dataset,
                                  forge_checker=checker, use_cache=use_cache)
    by_id = verify.Statuses({r.data["id"]: by_rel[r.rel] for r in dataset.applications if r.rel in by_rel})
    by_id.verified, by_id.trust = getattr(by_rel, "verified", False), getattr(by_rel, "trust", "none")
    return by_id, problems


# ---------------------------------------------------------------- the build


@dataclass
class Options:
    data: Path
    out: Path
    today: str  # ISO date: "today" for days left and the 公示 window
    commit: str | None = None  # the data's commit (--as-of: the commit chosen); found from git when None
    as_of: str | None = None  # --as-of: the ISO date the data is as of
    site_url: str | None = None  # where the site is served (overrides mkdocs.yml site_url)
    repo_url: str | None = None  # the repository's web address (overrides mkdocs.yml extra.repository)
    allow_invalid: bool = False
    pdf: bool = True
    forms: bool = True
    year: int | None = None
    cache: bool = True  # False: no cache at all (validate, verify, the build, printed forms): everything afresh
    forms_cache: Path | None = None  # where printed pages are kept (default: the user's cache)


@dataclass
class Result:
    problems: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    site_dir: Path | None = None
    private_dir: Path | None = None
    forms: list = field(default_factory=list)
    unscannable: set = field(default_factory=set)  # names that are part of the site's own text
    statuses: dict = field(default_factory=dict)  # application id -> Status
    records: tuple = ()  # (how the records were had: "incremental" or "cold: why", how many files were read)
    printed: object = None  # printing.Report: bundles, pages, printed and reused forms

    @property
    def ok(self) -> bool:
        return not has_errors(self.problems) and not self.findings


def load_checked(opts: Options, result: Result):
    """Validate; without allow_invalid any error stops the build; with it, bad records are left out."""
    dataset, problems = (validate.run_cached if opts.cache else validate.run)(opts.data, str(opts.data))
    result.problems = problems
    if not has_errors(problems):
        return dataset
    if not opts.allow_invalid:
        return None
    bad = {p.path for p in problems if p.severity == ERROR}
    result.left_out = sorted(bad)
    dataset.records = [r for r in dataset.records if r.path not in bad]
    result.problems = [p for p in problems if p.severity != ERROR]
    return dataset


def refuse_links(folders) -> None:
    """The site's own pages, theme and templates are copied into the site: a link among them (to
    /etc/passwd, or to a data file) would publish whatever it points to."""
    from ..records.dataset import odd_entries

    for folder in folders:
        odd = odd_entries(folder)
        if odd:
            rel, reason = odd[0]
            raise BuildError(f"{folder.name}/{rel} {reason}；网站未生成")


def pick_year(dataset, year: int | None) -> int:
    if year is not None:
        if year not in dataset.campaigns:
            raise BuildError(f"数据中没有 {year} 年度的活动文件（campaigns/{year}.yaml）")
        return year
    if not dataset.campaigns:
        raise BuildError("数据中没有活动文件（campaigns/<年度>.yaml），无法生成网站")
    return max(dataset.campaigns)


def history_of(dataset):
    """The repository's history (read once), or None when the data is not in a git repository."""
    from ..trust import gitlog

    repo = gitlog.toplevel(dataset.root)
    if repo is None:
        return None
    prefix = Path(dataset.root).resolve().relative_to(repo.resolve()).as_posix()
    try:
        return gitlog.load(repo, "" if prefix == "." else prefix)
    except gitlog.GitError:
        return None


def build(opts: Options) -> Result:
    """Everything `python build.py` does, without printing. Skipped, with the last build's result,
    when nothing it reads has changed and its outputs are untouched (jinqiu.publish.buildmemo)."""
    t0 = time.perf_counter()
    try:
        forge_on = forge.checker_from_env(os.environ) is not None
    except forge.ForgeConfigError:
        forge_on = True  # statuses() stops the build with the message
    key = buildmemo.inputs_key(opts, forge_on)
    summary = buildmemo.recall(opts, key)
    if summary is not None:
        result = _from_summary(opts, summary)
        if result is not None:
            result.timings = dict.fromkeys(("load", "verify", "stats", "render", "mkdocs", "scan"), 0.0)
            result.timings["unchanged"] = time.perf_counter() - t0
            return result
    if key is not None:
        buildmemo.forget(opts)
    inputs = time.perf_counter() - t0
    try:
        records = _records_store(opts, forge_on)
        result = _build_records(opts, *records) if records else _build(opts)
    finally:
        gc.unfreeze()  # what the build froze is the collector's again (a long-lived caller, such as the tests)
    result.timings["inputs"] = inputs
    if key is not None and result.site_dir is not None and not result.findings:
        buildmemo.remember(opts, key, _summary(result))
    return result


def _records_store(opts: Options, forge_on: bool):
    """(the repository, the store) when this build can use the records kept between builds: with
    the cache, in a git repository with a commit, without --as-of, --allow-invalid or a forge token
    (a review can be dismissed at any time); else None (the build reads everything: _build)."""
    from ..trust import gitlog

    if not opts.cache or opts.as_of or opts.commit or opts.allow_invalid or forge_on:
        return None
    repo = gitlog.toplevel(Path(opts.data))
    if repo is None or gitlog.head(repo) is None:
        return None
    store = cache.Store(Path(opts.data))
    return (repo, store) if store.usable else None


def _summary(result: Result) -> dict:
    """What build() returns, as JSON, for a build skipped because nothing changed."""
    printed = result.printed
    return {"problems": [list(cache.astuple_problem(p)) for p in result.problems], "left_out": list(result.left_out),
            "unscannable": sorted(result.unscannable), "forms": [str(p) for p in result.forms],
            "statuses": buildmemo.status_rows(result.statuses),
            "trust": [bool(getattr(result.statuses, "verified", False)), getattr(result.statuses, "trust", "none")],
            "printed": None if printed is None else {"pdfs": [str(p) for p in printed.pdfs], "pages": printed.pages,
                                                     "forms": printed.printed + printed.reused, "cache": printed.cache}}


def _from_summary(opts: Options, doc: dict) -> Result | None:
    from ..trust import status

    try:
        result = Result(problems=[Problem(*row) for row in doc["problems"]], left_out=list(doc["left_out"]),
                        unscannable=set(doc["unscannable"]), forms=[Path(p) for p in doc["forms"]],
                        site_dir=opts.out / "site", private_dir=opts.out / "private")
        rows = [status.Status.from_row(row) for row in doc["statuses"]["rows"]]
        sts = verify.Statuses({rid: rows[n] for rid, n in doc["statuses"]["of"].items()})
        sts.verified, sts.trust = doc["trust"]
        result.statuses = sts
        printed = doc["printed"]
        if printed is not None:
            from . import printing

            result.printed = printing.Report(pdfs=[Path(p) for p in printed["pdfs"]], pages=printed["pages"],
                                             printed=0, reused=printed["forms"], cache=printed["cache"])
    except (TypeError, KeyError, ValueError, AttributeError):
        return None
    return result


def _build(opts: Options) -> Result:
    result = Result()
    t0 = time.perf_counter()
    dataset = load_checked(opts, result)
    result.timings["load"] = time.perf_counter() - t0
    gc.freeze()  # the records live to the end: the collector need not walk them again, nor forked workers copy them
    if dataset is None:
        return result
    year = pick_year(dataset, opts.year)
    refuse_links((site.SITE_SRC, site.SITE_THEME, site.TEMPLATES))
    t = time.perf_counter()
    sts, verify_problems = statuses(dataset, use_cache=opts.cache)
    everything, verified_sts = dataset, sts  # before the --as-of cut: the scan looks for every value
    if opts.as_of:  # every dated fact is cut at the end of that day too (jinqiu.publish.asof)
        dataset, sts = asof.cut(dataset, sts, opts.as_of)
    result.statuses = sts
    result.problems = sorted(set(result.problems) | set(verify_problems))
    result.timings["verify"] = time.perf_counter() - t
    if validate.OPEN is not None:  # the keyed build (issue 21): the pages, the scan and the forms read the opened records
        dataset, everything = validate.readable(dataset), (validate.readable(everything) if everything is not dataset else None)
        everything = everything or dataset
    history = history_of(everything)
    try:
        checker = forge.checker_from_env(os.environ)
    except forge.ForgeConfigError:
        checker = None  # statuses() above has said so already
    clock = when.Clock(history, getattr(checker, "merged_at", None))
    report_days = {r.data["unit"]: clock.first_day(r.rel) for r in dataset.reports if r.data.get("year") == year}
    parts = {"dataset": dataset, "everything": everything, "history": history is not None, "report_days": report_days,
             "personal": functools.partial(privacy.personal_values, everything)}  # before the --as-of cut: every value
    del dataset, everything, history  # _publish lets them go before mkdocs and jieba load
    return _publish(opts, result, parts, year, sts, verified_sts)


def _build_records(opts: Options, repo: Path, store) -> Result:
    """The build from the records kept between builds (jinqiu.publish.incremental): what _build
    writes, reading only what changed since the last build (or every file once, none at a time whole)."""
    from . import incremental

    result = Result()
    t0 = time.perf_counter()

    def year_of(small):
        try:
            return pick_year(small, opts.year)
        except BuildError:
            return None

    box = [incremental.load(opts.data, str(opts.data), year_of, store=store, repo=repo, forms=opts.forms)]
    spool = box[0].spool  # closed however the build ends
    try:
        return _from_records(opts, result, box, store, t0)  # the records in a box: it lets them go, this frame holds none
    finally:
        if spool is not None:
            spool.close()


def _from_records(opts: Options, result: Result, box: list, store, t0: float) -> Result:
    from . import incremental

    records = box.pop()
    result.problems = records.problems
    result.timings["load"] = time.perf_counter() - t0
    result.records = (records.how, len(records.fresh))
    t = time.perf_counter()
    incremental.remember(store, records)
    result.timings["remember"] = time.perf_counter() - t
    if has_errors(records.problems):
        return result
    year = pick_year(records.small, opts.year)
    by_rel = records.statuses
    ids = {rel: records.link(rel)["id"] for rel, e in records.entries.items() if e.kind == "application" and e.link is not None}
    sts = verify.Statuses({ids[rel]: by_rel[rel] for rel in records.rels if rel in ids and rel in by_rel})
    sts.verified, sts.trust = by_rel.verified, by_rel.trust
    refuse_links((site.SITE_SRC, site.SITE_THEME, site.TEMPLATES))
    result.statuses = sts
    result.problems = sorted(set(result.problems) | set(records.verify_problems))
    dataset = records.dataset()
    parts = {"dataset": dataset, "everything": dataset, "history": True, "report_days": records.report_days(year),
             "personal": records.personal_values,
             "load": functools.partial(_whole, Path(opts.data), str(opts.data), records.spool),  # a form's whole record
             "versions": {rel: e.blob for rel, e in records.entries.items()},
             "values_token": records.values_token(),
             "store": store}
    del dataset, records  # _publish lets them go before mkdocs and jieba load (the caller holds the records no more)
    return _publish(opts, result, parts, year, sts, sts)


def _whole(root: Path, shown: str, spool, record) -> dict:
    """What a form shows of an application: from the spool of a build that read every file, else its file."""
    from ..records import dataset as ds

    found = spool.get(record.rel) if spool is not None else None
    return found if found is not None else ds.read_one(root, shown, record.rel)[0].data


def _publish(opts: Options, result: Result, parts: dict, year: int, sts, verified_sts) -> Result:
    """Statistics, the site, the privacy scan and the forms, from the records (parts["dataset"], and
    parts["everything"] before an --as-of cut) and their statuses. parts["personal"]() gives the
    values to scan for, parts["load"] a form's whole record when the dataset holds only part of it;
    with parts["store"], what the last build into this output made is used again where it holds.
    parts is emptied as each is used, so that the records are let go before mkdocs and jieba load."""
    dataset, everything = parts.pop("dataset"), parts.pop("everything")
    store = parts.get("store")
    t = time.perf_counter()
    tables = statistics.compute_all(dataset, year, sts)
    result.timings["stats"] = time.perf_counter() - t
    out = opts.out
    result.site_dir = out / "site"
    result.private_dir = out / "private"
    if result.private_dir.resolve().is_relative_to(result.site_dir.resolve()):
        raise BuildError("私有输出目录不能在网站目录之内")
    t = time.perf_counter()
    try:
        config = site.site_config(opts.site_url, opts.repo_url)
    except ValueError as exc:
        raise BuildError(str(exc)) from None
    campaign = dataset.campaigns[year]
    days = statistics.campaign_days(everything, year, verified_sts)
    starts, typed_only = when.starts_after(days, campaign), when.typed_only(days, campaign)
    over_time = timeline.build(everything, year, verified_sts, parts.pop("history") or None, site.timeline_groups(dataset.units),
                               campaign["starts_on"] if campaign.get("starts_on") else campaign["materials_due"],
                               min(opts.as_of or opts.today, opts.today,
                                   max([site.timeline_end(campaign)] + timeline.last_days(everything, year, verified_sts))))
    result.timings["timeline"] = time.perf_counter() - t
    t = time.perf_counter()
    version = data_version(opts.data, opts.commit, opts.as_of)
    view = site.public_view(dataset, year, sts, tables, opts.today, version, verified_sts.verified and verified_sts.trust,
                            len(result.left_out), repo_url=config["extra"].get("repository"), history_starts=starts,
                            typed_only=typed_only, report_days=parts.pop("report_days"))
    view.timelines = over_time
    work = result.private_dir / "site-build"
    pages_kind = f"pages-{cache.name_of(result.site_dir)}"
    pages_memo = None
    if store is not None:  # what the last build into this site made its workbook from
        pages_memo = store.get(pages_kind, cache.code_version())
        pages_memo = pages_memo if isinstance(pages_memo, dict) else {}
        store.put(pages_kind, "", None)  # until the site is built again
    try:
        site.write_pages(view, work / "docs", **({} if pages_memo is None else {"memo": pages_memo, "previous": result.site_dir}))
    except site.PageError as exc:
        raise BuildError(str(exc)) from None
    site.write_config(config, work)
    result.timings["render"] = time.perf_counter() - t
    # What the later stages need of the records, taken now, so that the records themselves (most
    # of the build's memory at 100,000 applications) are let go before mkdocs and jieba load.
    t = time.perf_counter()
    sources = (site.TEMPLATES / "site", site.SITE_SRC, site.SITE_THEME)
    token = parts.pop("values_token", None)
    kept = None  # the needles the last scan built from the same values, and what it set aside
    if store is not None:
        scan_kind, scan_key = f"scan-{cache.name_of(result.site_dir)}", cache.code_version()
        scan_memo = store.get(scan_kind, scan_key)
        scan_memo = scan_memo if isinstance(scan_memo, dict) else {}
        fixed_digest = privacy.sources_digest(sources)
        if token is not None and scan_memo.get("token") == [token, fixed_digest] and isinstance(scan_memo.get("needles"), dict):
            kept = [store.get_bytes(scan_kind + "-words", f"{scan_key}:{token}"),
                    store.get_bytes(scan_kind + "-latin", f"{scan_key}:{token}")]
            kept = None if None in kept else kept
    personal = parts.pop("personal")() if kept is None else None  # the values are not needed again when kept
    parts.pop("personal", None)
    words = search_words(dataset.units)
    rendered = None
    if opts.forms:
        from . import forms

        rendered = forms.render(dataset, year, sts, tables, load=parts.pop("load", None),  # this year's applications only
                                versions=parts.pop("versions", None))
    del dataset, everything, view
    result.timings["scan"] = time.perf_counter() - t
    t = time.perf_counter()
    run_mkdocs(work / "mkdocs.yml", result.site_dir, words)
    compact_search_index(result.site_dir)
    if pages_memo is not None:
        store.put(pages_kind, cache.code_version(), pages_memo)
    result.timings["mkdocs"] = time.perf_counter() - t
    t = time.perf_counter()
    if kept is not None:  # the same values as the last scan: the needles it built, and what it set aside
        needles = privacy.Needles.restore(kept[0], kept[1], scan_memo["needles"])
        result.unscannable = set(scan_memo["hidden"])
        result.findings = privacy.scan(result.site_dir, needles)
    else:
        values, result.unscannable = privacy.scannable(personal, privacy.fixed_text(sources))
        result.findings = privacy.scan(result.site_dir, values)
        if store is not None and token is not None:
            words_raw, latin_raw, rest = values.needles.dump()
            store.put_bytes(scan_kind + "-words", f"{scan_key}:{token}", words_raw)
            store.put_bytes(scan_kind + "-latin", f"{scan_key}:{token}", latin_raw)
            store.put(scan_kind, scan_key, {"token": [token, fixed_digest], "needles": rest, "hidden": sorted(result.unscannable)})
    result.timings["scan"] += time.perf_counter() - t
    if result.findings:
        return result
    if rendered is not None:
        t = time.perf_counter()
        memo = None
        if store is not None:  # what the last build into this output wrote, and from what
            memo = store.get(_forms_memo_kind(result.private_dir), FORMS_MEMO)
            memo = memo if isinstance(memo, dict) and isinstance(memo.get("html"), dict) else {"html": {}, "pdf": {}}
            store.put(_forms_memo_kind(result.private_dir), FORMS_MEMO, None)  # until the forms are written
        result.forms = forms.write_html(rendered, result.private_dir / "forms", memo=None if memo is None else memo["html"],
                                        keep_bundles=opts.pdf)
        result.timings["forms_html"] = time.perf_counter() - t
        if opts.pdf:
            from . import printing

            t = time.perf_counter()
            try:
                result.printed = printing.bundle_pdfs(
                    rendered, result.private_dir / "forms", use_cache=opts.cache, cache_dir=opts.forms_cache,
                    untrusted=(opts.data, result.site_dir, result.private_dir), memo=None if memo is None else memo["pdf"])
            except printing.PrintError as exc:
                raise BuildError(f"打印表格失败：{exc}") from None
            result.timings["forms_pdf"] = time.perf_counter() - t
        elif memo is not None:
            memo["pdf"] = {}
        if store is not None:
            store.put(_forms_memo_kind(result.private_dir), FORMS_MEMO, memo)
    return result


FORMS_MEMO = "forms-memo-1"


def _forms_memo_kind(private: Path) -> str:
    return f"forms-{cache.name_of(private)}"


def data_version(data: Path, commit: str | None, as_of: str | None) -> site.DataVersion:
    """Which version of the data the site shows: the commit (HEAD of the data's repository, or the
    --as-of commit), whether the data directory had changes not yet committed, and the --as-of date."""
    if commit is not None:
        return site.DataVersion(commit=commit, as_of=as_of)

    def git(*args):
        proc = subprocess.run(["git", "-C", str(data), *args], capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    head = git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not head:
        return site.DataVersion(as_of=as_of)
    dirty = bool(git("status", "--porcelain", "--untracked-files=normal", "--", "."))
    return site.DataVersion(commit=head, dirty=dirty, as_of=as_of)


def compact_search_index(site_dir: Path) -> None:
    """Rewrite search/search_index.json with its text as UTF-8 rather than \\u escapes: the
    segmenter's zero-width spaces (and every Chinese character) take 3 bytes instead of 6.
    The same JSON value, only smaller."""
    import json

    path = site_dir / "search" / "search_index.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def search_words(units: dict) -> list[str]:
    """The distinctive part of each union's name as one word for the Chinese segmenter, so that
    searching 和平区 finds 沈阳市和平区总工会 (jieba alone may split such a name): the name without the
    city's place name and its 总工会 or 工会 ending. Whole names are not added: they would hide their parts."""
    from ..check import city

    place = city.of_units(units).place
    words = set()
    for unit in units.values():
        short = site.short_name(unit.get("name", ""), place)
        if 2 <= len(short) <= 6:
            words.add(short)
    words.add("附件3")  # the statistics table's name in the notice: one word, so that searching it finds the table
    return sorted(words)


def run_mkdocs(config: Path, site_dir: Path, words=()) -> None:
    """A strict mkdocs build in this process; any warning fails it. words: terms the search index keeps whole."""
    from mkdocs.commands import build as mkbuild
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, MkDocsException

    logging.getLogger("jieba").setLevel(logging.WARNING)  # its dictionary-loading chatter
    jieba = None
    try:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
    except ImportError:
        pass
    # the words are this build's: jieba's dictionary is the process's, and another city's (or data
    # set's) union names must not change how this one's are segmented
    before = {word: jieba.get_FREQ(word) for word in words} if jieba else {}
    for word in before:
        jieba.add_word(word)
    log = logging.getLogger("mkdocs")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)
    log.addHandler(handler)
    try:
        cfg = load_config(config_file=str(config), site_dir=str(site_dir.resolve()), strict=True)
        mkbuild.build(cfg)
    except (Abort, MkDocsException) as exc:
        raise BuildError(f"mkdocs 构建失败：{exc} {stream.getvalue().strip()}") from None
    finally:
        log.removeHandler(handler)
        for word, freq in before.items():
            if freq is None:
                jieba.del_word(word)
            else:
                jieba.add_word(word, freq)


# ---------------------------------------------------------------- --as-of


def resolve_as_of(repo: Path, as_of: str) -> tuple[str, str]:
    """(commit, ISO date) of the last commit on or before a date, or of a named commit."""
    def git(*args):
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        if proc.returncode:
            raise BuildError(f"git {' '.join(args)} 失败：{proc.stderr.strip()}")
        return proc.stdout.strip()

    import re

    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", as_of):
        commit = git("rev-list", "-1", f"--before={as_of} 23:59:59", "HEAD")
        if not commit:
            raise BuildError(f"{as_of} 之前没有提交")
        return commit, as_of
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{as_of}^{{commit}}")
    except BuildError:
        raise BuildError(f"找不到提交 {as_of}") from None
    return commit, git("show", "-s", "--format=%cs", commit)


def checkout_data(data: Path, as_of: str, into: Path) -> tuple[Path, str, str]:
    """Extract the data directory as it stood at a date or commit into a temporary folder."""
    data = data.resolve()
    proc = subprocess.run(["git", "-C", str(data), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    if proc.returncode:
        raise BuildError(f"--as-of 需要数据目录在 git 仓库中：{data}")
    repo = Path(proc.stdout.strip())
    commit, day = resolve_as_of(repo, as_of)
    rel = data.relative_to(repo).as_posix()
    # a shared clone checked out at that commit: the data as it stood, and the history up to it,
    # so that verify proves the approvals exactly as it would have then
    clone = into / "repo"
    for cmd in (["git", "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone)],
                ["git", "-C", str(clone), "checkout", "-q", "--detach", commit]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise BuildError(f"无法取出提交 {commit[:12]}：{proc.stderr.strip()}")
    pinned = subprocess.run(["git", "-C", str(repo), "config", "--get-all", "jinqiu.rootKey"], capture_output=True, text=True)
    for key in pinned.stdout.split():  # the root this clone pinned holds for the copy too
        subprocess.run(["git", "-C", str(clone), "config", "--add", "jinqiu.rootKey", key], capture_output=True)
    if not (clone / rel).is_dir():
        raise BuildError(f"提交 {commit[:12]} 中没有 {rel}/")
    return clone / rel, commit, day


def temp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="jinqiu-as-of-")
