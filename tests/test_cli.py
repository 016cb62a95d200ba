import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
import store
from cli import Export, WebhookFormat, app, churn_cell
from insights.exports import EXPORTS
from insights.webhook import KINDS
from store.insights import upsert_alert

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ["crawl", "tag", "analyze", "app", "demo", "export", "stats", "erase-author",
            "search", "check"]
runner = CliRunner()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "--db" in result.output or command == "check"


def _otklik(*args, cwd=ROOT):
    env = {key: value for key, value in os.environ.items() if key != "OTKLIK_DB"}
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env)


@pytest.fixture
def otklik(capsys, monkeypatch):
    """``otklik ARGS…`` in this process through the console entry point ``cli.main``: the
    exit code, stdout and stderr (quicker than a child process, same code path)."""
    monkeypatch.delenv("OTKLIK_DB", raising=False)

    def run(*args, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", ["otklik", *args])
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            cli.main()
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, done.value.code or 0, out, err)

    return run


def _one_error_line(result, code=1):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    return result.stderr.strip()


def test_bad_input_gives_one_line_error(tmp_path):
    store.open_db(tmp_path / "x.db").close()
    result = _otklik("erase-author", "forum", "ghost", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no author 'ghost' in source 'forum'"
    result = _otklik("crawl", "nope", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: unknown source 'nope'; known:")
    bad = tmp_path / "catalogue.yaml"
    bad.write_text("industry: [", encoding="utf-8")
    result = _otklik("check", "--catalogue", str(bad))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "line 1: not valid YAML" in result.stderr


def test_search_export_stats_and_erase_through_the_cli(tmp_path, make_mention):
    db_path = tmp_path / "cli.db"
    with store.open_db(db_path) as db:
        store.upsert_mention(db, make_mention())
        store.upsert_mention(db, make_mention(url="https://f.example/2", author_handle="olena",
                                              text="Дякую Волні, все швидко"))
    result = runner.invoke(app, ["search", "волні", "--db", str(db_path)])
    assert "olena" in result.output and "[Волні]" in result.output
    out = tmp_path / "mentions.xlsx"
    result = runner.invoke(app, ["export", "mentions", str(out), "--db", str(db_path)])
    assert result.exit_code == 0 and out.exists()
    result = runner.invoke(app, ["stats", "--db", str(db_path)])
    assert "2 mentions by 2 authors" in result.output
    result = runner.invoke(app, ["erase-author", "forum", "olena", "--db", str(db_path)])
    assert "erased 1 mentions" in result.output
    result = runner.invoke(app, ["search", "волні", "--db", str(db_path)])
    assert "no mentions found" in result.output


def test_unknown_command_is_a_usage_error():
    result = _otklik("nosuch")
    assert result.returncode == 2 and result.stdout == ""
    assert "No such command 'nosuch'" in result.stderr and "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2():
    result = _otklik()
    assert result.returncode == 2
    assert "Usage" in result.stdout + result.stderr and "crawl" in result.stdout + result.stderr


@pytest.mark.parametrize(("args", "says"), [
    (["crawl", "--bogus"], "No such option: --bogus"),
    (["search"], "Missing argument"),
    (["tag", "--batch-size", "abc"], "--batch-size"),
    (["tag", "--batch-size", "0"], "--batch-size"),
    (["search", "x", "--limit", "99999999999999999999"], "--limit"),
    (["app", "--port", "99999"], "--port"),
    (["demo", "--port", "0"], "--port"),
    (["export", "nothing", "out.csv"], "'mentions', 'advocates', 'at-risk', 'questions'"),
    (["analyze", "--webhook-format", "teams"], "'slack', 'telegram'"),
    (["digest", "--format", "pdf"], "'md', 'html', 'both'"),
])
def test_misuse_is_a_usage_error_and_touches_nothing(otklik, tmp_path, args, says):
    db_path = tmp_path / "typo" / "otklik.db"
    result = otklik(*args, "--db", str(db_path), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "Usage:" in result.stderr and "Traceback" not in result.stderr
    assert says in " ".join(result.stderr.replace("│", " ").split())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["stats"], ["search", "волна"], ["export", "mentions", "out.csv"], ["tag"], ["analyze"],
    ["app", "--port", "8599"], ["erase-author", "forum", "ivan"], ["digest"],
])
def test_reading_commands_refuse_a_missing_store_and_create_nothing(otklik, tmp_path, args):
    db_path = tmp_path / "typo" / "otklik.db"
    line = _one_error_line(otklik(*args, "--db", str(db_path), cwd=tmp_path))
    assert line == f"error: no store at {db_path} (run 'otklik crawl' first, or pass --db)"
    assert list(tmp_path.iterdir()) == []


def test_the_default_store_is_not_created_either(tmp_path):
    line = _one_error_line(_otklik("stats", cwd=tmp_path))  # the installed command's way
    assert line == "error: no store at data/otklik.db (run 'otklik crawl' first, or pass --db)"
    assert list(tmp_path.iterdir()) == []


def _truncated_store(path, make_mention):
    with store.open_db(path) as db:
        store.upsert_mentions(db, [make_mention(url=f"https://f.example/{i}",
                                                author_handle=f"user{i}", text="Волна " * 200)
                                   for i in range(300)])
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(size // 2)
    return path


@pytest.mark.parametrize("bad", ["folder", "not sqlite", "truncated", "under a file"])
def test_a_broken_store_path_is_one_line(otklik, tmp_path, make_mention, bad):
    if bad == "folder":
        db_path = tmp_path / "folder"
        db_path.mkdir()
        expected = f"error: {db_path} is a folder, not a store file (pass --db FILE)"
    elif bad == "not sqlite":
        db_path = tmp_path / "notes.db"
        db_path.write_text("these are my notes\n" * 100, encoding="utf-8")
        expected = f"error: cannot read the store {db_path}: file is not a database"
    elif bad == "truncated":
        db_path = _truncated_store(tmp_path / "cut.db", make_mention)
        expected = f"error: cannot read the store {db_path}: database disk image is malformed"
    else:
        (tmp_path / "somefile").write_text("x", encoding="utf-8")
        db_path = tmp_path / "somefile" / "x.db"
        expected = f"error: no store at {db_path} (run 'otklik crawl' first, or pass --db)"
    before = _files(tmp_path)
    for args in (["stats"], ["search", "волна"]):
        assert _one_error_line(otklik(*args, "--db", str(db_path))) == expected
    after = _files(tmp_path)
    assert {path: after[path] for path in before} == before  # nothing changed
    # SQLite may leave its empty side files when it gives up on a file
    assert set(after) - set(before) <= {Path(f"{db_path}-wal"), Path(f"{db_path}-shm")}


def _files(folder):
    return {path: path.read_bytes() if path.is_file() else None for path in folder.rglob("*")}


def test_crawl_to_a_path_under_a_file_is_one_line(tmp_path):
    (tmp_path / "somefile").write_text("x", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n- id: feed\n  kind: rss\n  url: http://127.0.0.1:9/feed\n",
                       encoding="utf-8")
    result = _otklik("crawl", "--db", str(tmp_path / "somefile" / "x.db"),
                     "--sources", str(sources))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]  # after Scrapy's start-up lines
    assert last.startswith("error: ") and str(tmp_path / "somefile") in last


def test_an_unwritable_export_is_one_line(otklik, tmp_path, make_mention):
    db_path = tmp_path / "cli.db"
    with store.open_db(db_path) as db:
        store.upsert_mention(db, make_mention())
    (tmp_path / "somefile").write_text("x", encoding="utf-8")
    out = tmp_path / "somefile" / "mentions.csv"
    line = _one_error_line(otklik("export", "mentions", str(out), "--db", str(db_path)))
    assert line.startswith("error: ") and str(tmp_path / "somefile") in line


def test_results_go_to_stdout_and_the_rest_to_stderr(otklik, tmp_path, make_mention):
    db_path = tmp_path / "cli.db"
    with store.open_db(db_path) as db:
        store.upsert_mention(db, make_mention(text="Волна снова списала деньги за роуминг " * 5))
    found = _otklik("search", "роуминг", "--db", str(db_path))
    assert found.returncode == 0 and found.stderr == ""
    assert found.stdout.splitlines()[0].startswith("2026-10-01T10:00:00+00:00 forum ivan_petrov:")
    assert "[роуминг]" in found.stdout.splitlines()[0]  # one line per hit, however long
    none = otklik("search", "кошка", "--db", str(db_path))
    assert (none.returncode, none.stdout, none.stderr) == (0, "", "no mentions found\n")
    stats = otklik("stats", "--db", str(db_path))
    assert stats.stdout.startswith("1 mentions by 1 authors") and stats.stderr == ""


def test_dry_run_webhook_stdout_is_json_lines_only(tmp_path, make_mention):
    db_path = tmp_path / "cli.db"
    with store.open_db(db_path) as db:
        store.upsert_mention(db, make_mention())
        upsert_alert(db, "volna/*/billing", {
            "brand": "volna", "touchpoint": "billing", "started_at": "2026-11-20T06:00:00+00:00",
            "last_seen_at": "2026-11-20T09:00:00+00:00", "magnitude": 5.0, "baseline": 4.0,
            "ongoing": True, "terms": [{"term": "списали", "score": 3.0}],
            "details": {"observed": 20}})
    result = _otklik("analyze", "--db", str(db_path), "--as-of", "2026-11-24T00:00:00Z",
                     "--dry-run-webhook")
    assert result.returncode == 0, result.stderr[-2000:]
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(messages) == 1 and "volna" in json.dumps(messages, ensure_ascii=False)
    assert "0 of 1 stored mentions name a brand" in result.stderr
    assert "1 incident message(s) printed, none posted" in result.stderr


def test_fixed_choices_match_what_the_code_accepts():
    assert [kind.value for kind in Export] == list(EXPORTS)
    assert tuple(kind.value for kind in WebhookFormat) == KINDS


def test_at_risk_churn_cell_never_prints_none():
    assert churn_cell({"churn": True, "churn_target": None}) == "→ ?"
    assert churn_cell({"churn": True, "churn_target": "telenova"}) == "→ telenova"
    assert churn_cell({"churn": False, "churn_target": None}) == ""


def test_a_usage_error_from_the_installed_command_is_short(tmp_path):
    result = _otklik("tag", "--batch-size", "abc", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Usage: ") and "--batch-size" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 8


def test_the_installed_command_refuses_a_missing_store(tmp_path):
    db_path = tmp_path / "typo" / "otklik.db"
    line = _one_error_line(_otklik("search", "волна", "--db", str(db_path)))
    assert line == f"error: no store at {db_path} (run 'otklik crawl' first, or pass --db)"
    assert not db_path.parent.exists()


def test_app_exits_with_the_dashboards_exit_code(otklik, tmp_path, monkeypatch):
    db_path = tmp_path / "cli.db"
    store.open_db(db_path).close()
    started = []
    monkeypatch.setattr(cli.subprocess, "call",
                        lambda command, env: started.append((command, env)) or 3)
    result = otklik("app", "--db", str(db_path), "--port", "8599")
    assert result.returncode == 3
    assert "--server.port" in started[0][0] and "8599" in started[0][0]
    assert started[0][1]["OTKLIK_DB"] == str(db_path.resolve())
    assert result.stdout == "" and "http://127.0.0.1:8599" in result.stderr
