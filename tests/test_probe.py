"""`otklik probe URL`: what a new source would give, before it is added."""

import os
import subprocess
import sys

import yaml
from conftest import ROOT
from engine_fixtures import ENGINES, expected

from config.sources import load_sources


def _probe(url, *args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "probe", url, *args],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "250"})


def test_a_topic_page_shows_its_posts_and_a_ready_sources_entry(fixture_server, tmp_path):
    spec = expected("xenforo1")
    server = fixture_server(ENGINES / "xenforo1")
    done = _probe(f"{server.base_url}/{spec['topics'][0]}", "--timezone", spec["timezone"])
    assert done.returncode == 0, done.stderr
    assert "engine: xenforo; read as a topic page by structure" in done.stdout
    assert "Posts: 7 of 7 readable" in done.stdout
    for post in spec["posts"][:7]:
        assert post["author"] in done.stdout
    assert "next page: " + f"{server.base_url}/" in done.stdout
    entry = done.stdout.split("sources.yaml entry:\n", 1)[1]
    (tmp_path / "sources.yaml").write_text(entry, encoding="utf-8")
    (source,) = load_sources(tmp_path / "sources.yaml")  # valid as it is
    assert source.kind == "forum" and source.url == f"{server.base_url}/"


def test_a_board_page_lists_its_topics_and_becomes_the_board_option(fixture_server):
    spec = expected("smf20")
    server = fixture_server(ENGINES / "smf20")
    done = _probe(f"{server.base_url}/{spec['board']}")
    assert done.returncode == 0, done.stderr
    assert "engine: smf; read as a board page" in done.stdout
    assert spec["topics"][0].split("=")[1].split(".")[0] in done.stdout
    entry = yaml.safe_load(done.stdout.split("sources.yaml entry:\n", 1)[1])
    assert entry["sources"][0]["options"]["boards"] == [spec["board"]]


def test_an_unreadable_page_says_so_and_fails(fixture_server, tmp_path):
    (tmp_path / "app.html").write_text("<html><body><div id=app></div></body></html>",
                                       encoding="utf-8")
    server = fixture_server(tmp_path)
    done = _probe(f"{server.base_url}/app.html")
    assert done.returncode == 1
    assert "neither the engine selectors nor the page structure fit this page" in done.stdout


def test_a_page_that_cannot_be_fetched_is_one_line(fixture_server, tmp_path):
    server = fixture_server(tmp_path)
    missing = _probe(f"{server.base_url}/nothing-here")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"error: {server.base_url}/nothing-here answered HTTP 404"
    assert "Traceback" not in missing.stderr
    not_http = _probe("file:///etc/passwd")
    assert not_http.returncode == 1 and "is not an http(s) URL" in not_http.stderr
