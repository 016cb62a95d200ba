"""Throwaway PostgreSQL and Redis servers on loopback for tests and benchmarks.

Each runs from the Debian packages (``scripts/system-deps.sh test`` installs them) in a
temporary folder of its own, on a free port of 127.0.0.1, and is stopped with the context.
PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user
that the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_SECONDS = 60


class ServerUnavailable(RuntimeError):
    """The server's programs are not installed, or it did not start."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path:
    """The folder of the newest installed PostgreSQL's server programs."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda path: int(Path(path).parent.parent.name))
    if not found:
        raise ServerUnavailable("PostgreSQL is not installed (scripts/system-deps.sh test)")
    return Path(found[-1]).parent


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL cluster on loopback; yields its URL (database ``postgres``)."""
    bin_dir = postgres_bin()
    owner = "postgres" if os.geteuid() == 0 else None
    home = Path(tempfile.mkdtemp(prefix="otklik-pg-"))
    data = home / "data"
    port = free_port()
    if owner:
        shutil.chown(home, owner)
    run = dict(check=True, capture_output=True, text=True)
    try:
        subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", "otklik",
                                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"], owner),
                       **run)
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -k {home} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                                  str(home / "log"), "-o", options, "-w",
                                  "-t", str(START_SECONDS), "start"], owner), **run)
    except subprocess.CalledProcessError as failed:
        shutil.rmtree(home, ignore_errors=True)
        raise ServerUnavailable(f"PostgreSQL did not start: {failed.stderr.strip()}") from None
    try:
        yield f"postgresql://otklik@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                  "immediate", "stop"], owner), capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """Start a Redis server on loopback without persistence; yields its URL."""
    program = shutil.which("redis-server")
    if not program:
        raise ServerUnavailable("redis-server is not installed (scripts/system-deps.sh test)")
    home = Path(tempfile.mkdtemp(prefix="otklik-redis-"))
    port = free_port()
    server = subprocess.Popen(
        [program, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(home),
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, server)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(home, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"the server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise ServerUnavailable(f"nothing listened on port {port} after {START_SECONDS} s")
