"""Chaos on one store: crawls, tagging and analysis at once, killed at random, then settled.

    .venv/bin/python bench/chaos.py [--runs 20] [--seed 1] [--replay SEED] [--no-tag]

The demo community is generated once and served on 127.0.0.1. A reference store is built
by one clean crawl → tag → analyze. Each run then starts from an empty store: two crawls of
every source overlap (cron firing twice), `otklik tag` and `otklik analyze` start while they
run, and each of these processes is killed with probability one half at a random moment
(SIGKILL, or SIGTERM as a reboot's shutdown sends). Then the run settles as an operator
would: one crawl, one tag, one analyze, none killed. Against the reference it counts posts
lost, duplicated (more than one row for a URL, or a row the reference lacks) and
mis-attributed (another author), mentions left untagged, and whether the alerts are the
reference's; a process that was not killed must exit 0 (or 75 for a crawl that found its
source busy). Every run prints its seed: `--replay SEED` runs that one again.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import store  # noqa: E402
from demo.community import start_community  # noqa: E402
from demo.generate import generate, write_sources  # noqa: E402

END, AS_OF = date(2026, 11, 24), "2026-11-24T00:00:00+00:00"
FAST = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "OTKLIK_LOG_LEVEL": "WARNING"}
OK_CODES = {"crawl": {0, 75}, "tag": {0}, "analyze": {0}}


@dataclass
class Job:
    """One command of a run: when it starts, and when and how it is killed (if it is)."""

    name: str
    args: list[str]
    start: float
    kill_at: float | None = None
    kill_signal: int = signal.SIGKILL
    process: subprocess.Popen | None = None
    killed: bool = False

    @property
    def kind(self) -> str:
        return self.args[0]


@dataclass
class Outcome:
    seed: int
    lost: int = 0
    duplicated: int = 0
    misattributed: int = 0
    untagged: int = 0
    alerts_equal: bool = True
    bad_exits: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.misattributed or self.untagged
                    or self.bad_exits) and self.alerts_equal


def cli(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run one ``otklik`` command to its end."""
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def settle(db: Path, sources: Path, tag: bool) -> list[str]:
    """Crawl, tag and analyze without interruption; returns the commands that failed."""
    steps = [["crawl", "--db", str(db), "--sources", str(sources), *FAST]]
    if tag:
        steps += [["tag", "--db", str(db)], ["analyze", "--db", str(db), "--as-of", AS_OF]]
    failed = []
    for args in steps:
        done = cli(*args)
        if done.returncode != 0:
            failed.append(f"settling {args[0]} exited {done.returncode}: "
                          f"{done.stderr.strip().splitlines()[-1:]}")
    return failed


def snapshot(db_path: Path) -> dict:
    """What a run is judged on: posts by URL with their author, tags, alerts."""
    with store.open_db(db_path) as db:
        rows = db.execute("SELECT id, url, author_id FROM mentions").fetchall()
        untagged = db.execute("""SELECT count(*) FROM mentions m WHERE NOT EXISTS
            (SELECT 1 FROM tags t WHERE t.mention_id = m.id AND t.name = 'sentiment')"""
                              ).fetchone()[0]
        alerts = sorted(db.execute(
            "SELECT key, started_at, status FROM alerts").fetchall())
    return {"rows": rows, "untagged": untagged, "alerts": alerts}


def compare(reference: dict, got: dict, outcome: Outcome, tag: bool) -> None:
    """Fill ``outcome`` with what ``got`` lost, doubled or mis-attributed."""
    authors = {mention_id: author for mention_id, _, author in reference["rows"]}
    urls: dict[str, int] = {}
    for mention_id, url, author in got["rows"]:
        urls[url] = urls.get(url, 0) + 1
        if mention_id not in authors:
            outcome.duplicated += 1
        elif authors[mention_id] != author:
            outcome.misattributed += 1
    outcome.duplicated += sum(count - 1 for count in urls.values())
    outcome.lost = len(set(authors) - {mention_id for mention_id, _, _ in got["rows"]})
    if tag:
        outcome.untagged = got["untagged"]
        outcome.alerts_equal = got["alerts"] == reference["alerts"]


def plan(rng: random.Random, db: Path, sources: Path, tag: bool) -> list[Job]:
    """Two overlapping crawls, then tag and analyze while they run; each maybe killed."""
    crawl = ["crawl", "--db", str(db), "--sources", str(sources), *FAST]
    jobs = [Job("crawl-1", crawl, 0.0), Job("crawl-2", crawl, rng.uniform(0.5, 6))]
    if tag:
        jobs += [Job("tag", ["tag", "--db", str(db)], rng.uniform(2, 10)),
                 Job("analyze", ["analyze", "--db", str(db), "--as-of", AS_OF],
                     rng.uniform(4, 20))]
    for job in jobs:
        if rng.random() < 0.5:
            job.kill_at = job.start + rng.uniform(0.5, 25)
            job.kill_signal = rng.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGTERM])
    return jobs


def run_chaos(jobs: list[Job], outcome: Outcome, limit: float = 1800) -> None:
    """Start and kill the jobs on their schedule; wait for all to end."""
    began = time.monotonic()
    while True:
        now = time.monotonic() - began
        for job in jobs:
            if job.process is None and now >= job.start:
                job.process = subprocess.Popen(
                    [sys.executable, str(ROOT / "cli.py"), *job.args], cwd=ROOT, env=ENV,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            elif (job.process is not None and job.kill_at is not None and not job.killed
                  and now >= job.kill_at and job.process.poll() is None):
                job.process.send_signal(job.kill_signal)
                job.killed = True
                outcome.kills.append(f"{job.name}@{now:.1f}s "
                                     f"{signal.Signals(job.kill_signal).name}")
        if all(job.process is not None and job.process.poll() is not None for job in jobs):
            break
        if now > limit:
            for job in jobs:
                if job.process is not None and job.process.poll() is None:
                    job.process.kill()
            outcome.bad_exits.append("chaos phase ran past its limit")
            break
        time.sleep(0.05)
    for job in jobs:
        err = job.process.stderr.read() if job.process.stderr else ""
        code = job.process.returncode
        if not job.killed and code not in OK_CODES[job.kind]:
            last = err.strip().splitlines()[-1:] if err.strip() else []
            outcome.bad_exits.append(f"{job.name} exited {code}: {last}")


def one_run(seed: int, reference: dict, sources: Path, work: Path, tag: bool) -> Outcome:
    """One chaos run from an empty store, then settled and compared."""
    rng = random.Random(seed)
    db = work / f"chaos-{seed}.db"
    outcome = Outcome(seed)
    run_chaos(plan(rng, db, sources, tag), outcome)
    outcome.bad_exits += settle(db, sources, tag)
    compare(reference, snapshot(db), outcome, tag)
    for path in work.glob(f"chaos-{seed}.db*"):
        path.unlink()
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="first run's seed")
    parser.add_argument("--replay", type=int, help="run only this seed")
    parser.add_argument("--no-tag", dest="tag", action="store_false",
                        help="crawls only (no tag / analyze)")
    options = parser.parse_args(argv)
    seeds = [options.replay] if options.replay is not None else list(
        range(options.seed, options.seed + options.runs))
    with tempfile.TemporaryDirectory(prefix="otklik-chaos-") as folder:
        work = Path(folder)
        generate(work / "site", 42, END)
        server, base_url = start_community(work / "site")
        try:
            sources = write_sources(work / "site", base_url, work / "sources.yaml")
            started = time.monotonic()
            failed = settle(work / "reference.db", sources, options.tag)
            if failed:
                print("the reference run failed:", *failed, sep="\n  ")
                return 1
            reference = snapshot(work / "reference.db")
            print(f"reference: {len(reference['rows'])} posts, {len(reference['alerts'])} "
                  f"alerts, {time.monotonic() - started:.0f} s")
            outcomes = []
            for seed in seeds:
                started = time.monotonic()
                outcome = one_run(seed, reference, sources, work, options.tag)
                outcomes.append(outcome)
                print(f"seed {seed}: lost {outcome.lost}, duplicated {outcome.duplicated}, "
                      f"mis-attributed {outcome.misattributed}, untagged {outcome.untagged}, "
                      f"alerts {'equal' if outcome.alerts_equal else 'DIFFER'}; "
                      f"kills: {', '.join(outcome.kills) or 'none'}; "
                      f"{time.monotonic() - started:.0f} s", flush=True)
                for problem in outcome.bad_exits:
                    print(f"  {problem}")
        finally:
            server.shutdown()
            server.server_close()
    clean = sum(outcome.clean for outcome in outcomes)
    print(f"{len(outcomes)} runs: {clean} clean; lost {sum(o.lost for o in outcomes)}, "
          f"duplicated {sum(o.duplicated for o in outcomes)}, mis-attributed "
          f"{sum(o.misattributed for o in outcomes)}, untagged "
          f"{sum(o.untagged for o in outcomes)}, alerts differing in "
          f"{sum(not o.alerts_equal for o in outcomes)}, bad exits "
          f"{sum(len(o.bad_exits) for o in outcomes)}")
    return 0 if clean == len(outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
