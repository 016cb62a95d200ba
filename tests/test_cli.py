import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import store
from cli import app

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


def _otklik(*args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_bad_input_gives_one_line_error(tmp_path):
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
