"""`--db postgresql://…` as a newcomer gets it wrong: a server that does not answer, a
database that holds no store or somebody else's tables, a password in the URL."""

import subprocess
import sys
import uuid

import psycopg
import pytest
from conftest import ROOT
from local_servers import free_port

import store


def otklik(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def database_url(server_url: str) -> str:
    return server_url.rsplit("/", 1)[0] + f"/otklik_{uuid.uuid4().hex[:10]}"


def test_a_server_that_does_not_answer_is_one_line_without_the_password():
    done = otklik("stats", "--db", f"postgresql://otklik:s3cret@127.0.0.1:{free_port()}/x")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot reach the store postgresql://otklik:***@")
    assert "s3cret" not in done.stderr and "Traceback" not in done.stderr


def test_reading_commands_refuse_a_database_without_a_store(postgres_url):
    url = database_url(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {url.rsplit('/', 1)[1]}")
    for command in (["stats"], ["search", "роуминг"], ["tag"], ["analyze"]):
        done = otklik(*command, "--db", url)
        assert done.returncode == 1, command
        assert done.stderr.strip().splitlines() == [
            f"error: no Otklik store in {url} (run 'otklik crawl' or 'otklik migrate-store' "
            "first, or pass --db)"]
    with psycopg.connect(url) as conn:  # nothing was created in it
        assert conn.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'public'").fetchone()[0] == 0


def test_a_database_of_other_tables_is_left_alone(postgres_url):
    url = database_url(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {url.rsplit('/', 1)[1]}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(store.StoreError, match="not an Otklik store"):
        store.open_db(url)
    done = otklik("migrate-store", str(ROOT / "nothing.db"), url)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_a_store_is_created_in_a_database_that_does_not_exist_yet(postgres_url, tmp_path,
                                                                   make_mention):
    url = database_url(postgres_url)
    with store.open_db(url) as db:
        store.upsert_mention(db, make_mention())
    done = otklik("stats", "--db", url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 mentions by 1 authors")
