import os
import shutil
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from fixture_server import start_fixture_server

import store

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pytest_generate_tests(metafunc):
    """Tests of a module marked ``both_backends`` run on SQLite and, with
    ``OTKLIK_TEST_PG`` set, on PostgreSQL too: their ``db_path`` is then a database URL."""
    if ("db_path" in metafunc.fixturenames and os.environ.get("OTKLIK_TEST_PG")
            and metafunc.definition.get_closest_marker("both_backends")
            and not metafunc.definition.get_closest_marker("sqlite_only")):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def backend(request):
    """The store's engine in this test: ``sqlite`` unless parametrized."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_path(tmp_path, backend, request):
    """Where the test's store lives: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield tmp_path / "otklik.db"
        return
    template = request.getfixturevalue("postgres_template")
    with fresh_postgres_database(template) as url:
        yield url


@pytest.fixture
def db(db_path):
    database = store.open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def make_mention():
    """A mention dict as the crawlers hand it to the store, with overridable fields."""

    def build(**fields):
        mention = {
            "source": "forum",
            "url": "https://forum.example.com/viewtopic.php?t=1&p=10#p10",
            "kind": "post",
            "text": "Волна снова списала деньги за роуминг, верните!",
            "title": "Списания",
            "thread_id": "1",
            "author_handle": "ivan_petrov",
            "author_name": "Иван Петров",
            "author_url": "https://forum.example.com/memberlist.php?mode=viewprofile&u=7",
            "published_at": "2026-10-01T10:00:00+00:00",
            "quotes": [],
            "likes": 2,
        }
        mention.update(fields)
        return mention

    return build


ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAST_CRAWL = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False"]


@pytest.fixture
def fixture_server():
    """Start a loopback server over fixture folders: ``fixture_server(folder, …)``."""
    servers = []

    def start(*layers):
        server = start_fixture_server(*layers)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_crawl(sources_file, db_path, *source_ids, jobs=True, timeout=120, extra=()):
    """Run a real ``otklik crawl`` in a child process; returns the finished process."""
    command = [sys.executable, str(ROOT / "cli.py"), "crawl", *source_ids, "--db", str(db_path),
               "--sources", str(sources_file), *FAST_CRAWL, *extra]
    if not jobs:
        command.append("--no-resume")
    env = {**os.environ, "OTKLIK_LOG_LEVEL": "WARNING"}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT)


def write_sources(path, *sources):
    """Write a sources file from dicts; returns its path."""
    path.write_text(yaml.safe_dump({"sources": list(sources)}, allow_unicode=True),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL server's URL; the tests using it run only when
    ``OTKLIK_TEST_PG`` is set (CI sets it), so that a laptop run stays quick."""
    if not os.environ.get("OTKLIK_TEST_PG"):
        pytest.skip("PostgreSQL tests run with OTKLIK_TEST_PG=1")
    from local_servers import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_template(postgres_url):
    """A migrated empty store on the test server, copied for every test that needs one."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE DATABASE otklik_template")
    template = postgres_url.rsplit("/", 1)[0] + "/otklik_template"
    store.open_db(template).close()
    return template


BACKENDS = ["sqlite", "postgresql"] if os.environ.get("OTKLIK_TEST_PG") else ["sqlite"]


@contextmanager
def store_copy(template, folder):
    """A copy of the store ``template`` (a SQLite file, copied into ``folder``, or a
    PostgreSQL database, copied on its server), to change in one test."""
    if isinstance(template, str):
        with fresh_postgres_database(template) as url:
            yield url
        return
    copy = Path(folder) / template.name
    shutil.copy(template, copy)
    yield copy


@contextmanager
def fresh_postgres_database(template_url):
    """A new database copied from ``template_url``'s; dropped afterwards."""
    import psycopg

    server, template = template_url.rsplit("/", 1)
    name = f"otklik_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway Redis server's URL (``redis-server`` from the Debian package)."""
    from local_servers import redis_server

    with redis_server() as url:
        yield url
