"""``otklik``: one command line for everything. Each command calls the matching Python API.

Results (search hits, stats, what each source's crawl stored, webhook dry-run messages) go
to stdout; progress, status lines, summaries and errors to stderr, an error as one line with a
non-zero exit code.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

import store
from config.catalogue import DEFAULT_CATALOGUE, load_catalogue
from config.sources import DEFAULT_SOURCES, load_sources, select_sources
from config.yaml_nodes import ConfigError
from crawlers.run import CrawlFailed
from nlp.device import DEVICE_VARIABLE, DEVICES
from store.locks import LockBusy, describe_holder, hold

ROOT = Path(__file__).resolve().parent
class StoreTarget:
    """A ``--db`` value: a SQLite file's path, or a ``postgresql://`` URL."""


DbOption = Annotated[StoreTarget, typer.Option(
    "--db", envvar="OTKLIK_DB", parser=store.store_target, metavar="FILE|URL",
    help="SQLite database file, or a PostgreSQL URL (postgresql://user@host/db).")]
SourcesOption = Annotated[Path, typer.Option("--sources", help="Sources file (YAML).")]
WaitOption = Annotated[float, typer.Option(
    "--wait", min=0, help="Seconds to wait while another tag or analyze run holds the store.")]
EXIT_BUSY = 75  # EX_TEMPFAIL: nothing is wrong, but the work was not done; try again later
PortOption = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]
MAX_SEARCH_RESULTS = 1000
MAX_BATCH_SIZE = 4096
MAX_TAG_WORKERS = 64

app = typer.Typer(
    help="Otklik: social listening and community feedback mining for CX teams.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)  # progress, status lines, summaries
results = Console(soft_wrap=True)  # search hits, stats, crawl counts


class CommandError(Exception):
    """A user-facing failure, printed as one line."""


class Export(StrEnum):
    """What ``otklik export`` writes (the keys of ``insights.exports.EXPORTS``)."""

    mentions = "mentions"
    advocates = "advocates"
    at_risk = "at-risk"
    questions = "questions"


# Where ``otklik tag`` runs its models: cpu, cuda or auto.
Device = StrEnum("Device", {name: name for name in DEVICES})


class DigestFormat(StrEnum):
    """What ``otklik digest`` writes: Markdown, e-mail HTML, or both."""

    md = "md"
    html = "html"
    both = "both"


class WebhookFormat(StrEnum):
    """Webhook message formats (``insights.webhook.KINDS``)."""

    slack = "slack"
    telegram = "telegram"


@app.command()
def crawl(
    sources: Annotated[list[str] | None, typer.Argument(help="Source ids (default: all).")] = None,
    db: DbOption = store.DEFAULT_DB_PATH,
    sources_file: SourcesOption = DEFAULT_SOURCES,
    resume: Annotated[bool, typer.Option(help="Keep a job folder per source to resume a "
                                               "killed crawl.")] = True,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help="Scrapy setting NAME=VALUE, e.g. --set DOWNLOAD_DELAY=1.")] = None,
    redis: Annotated[str | None, typer.Option(
        "--redis", envvar="OTKLIK_REDIS", help="Redis URL of a crawl fleet: every crawl "
        "process given it shares each source's frontier (docs/fleet.md).")] = None,
) -> None:
    """Crawl sources into the store; re-crawls store only what is new or edited."""
    from crawlers.run import check_redis, crawl_sources, parse_setting  # noqa: I001 (lazy)

    chosen = select_sources(load_sources(sources_file), sources or [])
    if not chosen:
        raise CommandError(f"no enabled sources in {sources_file}")
    if redis:
        check_redis(redis)
    jobs = _jobs_folder(db) if resume and not redis else None
    with _progress() as progress:
        tasks = {s.id: progress.add_task(s.id, total=None) for s in chosen}
        results = crawl_sources(
            chosen, db_path=db, sources_path=sources_file, jobs_dir=jobs,
            on_item=lambda source_id: progress.advance(tasks[source_id]), redis_url=redis,
            **dict(parse_setting(item) for item in set_ or []),
        )
    _print_crawl_results(results)
    if code := crawl_exit_code(results):
        raise typer.Exit(code)


@app.command()
def tag(
    db: DbOption = store.DEFAULT_DB_PATH,
    batch_size: Annotated[int, typer.Option(min=1, max=MAX_BATCH_SIZE)] = 64,
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
    wait: WaitOption = 3600,
    workers: Annotated[int, typer.Option(
        min=1, max=MAX_TAG_WORKERS,
        help="Tagging processes on this machine, each with its own models.")] = 1,
    device: Annotated[Device, typer.Option(
        envvar=DEVICE_VARIABLE, show_envvar=True,
        help="Where the models run: cpu, cuda (a GPU) or auto (a GPU if there is one).")
    ] = Device.cpu,
) -> None:
    """Tag mentions that are untagged, edited, or tagged by older models or catalogue:
    language, sentiment, brands, products, touchpoints and intents, with evidence.
    Taggers share the work: --workers here, and other `otklik tag` runs on this or other
    machines using the same store (on CPUs or GPUs), each claim their own batches. An
    analyze run waits (--wait) for them, and they for it."""
    from nlp.device import inference_device
    from nlp.tag_workers import TagJob, run_workers, tag_store

    inference_device(device.value)  # a GPU asked for and missing: one line, before any work
    os.environ[DEVICE_VARIABLE] = device.value  # this process's models, and its workers'
    _require_store(db)
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else 0
    job = TagJob(str(db), str(catalogue), batch_size, wait, threads)
    if workers == 1:
        with _TagDisplay(db, wait, spinner=True) as display:
            counts = tag_store(job, display)
        _print_tag_counts(counts)
        return
    with _one_at_a_time(db, "otklik tag", wait, shared=True), _TagDisplay(db, wait) as display:
        ended = run_workers(job, workers, display)
    for result in ended:
        if result.counts is not None:
            console.print(f"worker {result.worker}: tagged {result.counts['tagged']}, "
                          f"failed {result.counts['failed']}, cut {result.counts['cut']}, "
                          f"embedded {result.counts['embedded']}", highlight=False)
    _print_tag_counts({key: sum(r.counts[key] for r in ended if r.counts)
                       for key in ("tagged", "failed", "cut", "embedded")})
    if busy := next((r.busy for r in ended if r.busy is not None), None):
        raise LockBusy("derive", busy)
    if failed := [r for r in ended if not r.ok]:
        raise CommandError(worker_failures(failed))


def worker_failures(failed) -> str:
    """One line naming the workers that failed or died, and why."""
    def why(result) -> str:
        if result.failure:
            return f"failed: {result.failure}"
        if result.exit_code is not None and result.exit_code < 0:
            return f"died (signal {-result.exit_code})"
        return f"died (exit code {result.exit_code})"

    by_reason: dict[str, list[str]] = {}
    for result in failed:
        by_reason.setdefault(why(result), []).append(result.worker)
    return "; ".join(f"worker{'s' if len(names) > 1 else ''} {', '.join(names)} {reason}"
                     for reason, names in by_reason.items())


def _print_tag_counts(counts: dict) -> None:
    console.print(f"tagged {counts['tagged']} mentions ({counts['failed']} failed, "
                  f"{counts['cut']} too long and tagged from their start only, "
                  f"{counts['embedded']} complaint embeddings kept)")


class _TagDisplay:
    """``otklik tag``'s stderr: waiting lines, the touchpoint fit, one progress bar over all
    workers (the events of ``nlp.tag_workers.TagEvents``)."""

    def __init__(self, db: Path, wait: float, spinner: bool = False):
        self.db, self.wait, self.spinner = db, wait, spinner
        self.bar, self.task, self.status = _progress(), None, None

    def __enter__(self) -> _TagDisplay:
        return self

    def __exit__(self, *exc) -> None:
        self._stop_status()
        self.bar.stop()

    def waiting(self, lock: str, holder: dict) -> None:
        what = ("to fit the touchpoint model" if lock == "fit"
                else f"to finish on {store.describe_store(self.db)}")
        print(f"waiting up to {self.wait:.0f} s for {describe_holder(holder)} {what}",
              file=sys.stderr)

    def checking(self) -> None:
        if self.spinner:
            self.status = console.status("checking the touchpoint model…")
            self.status.start()

    def fitted(self, report) -> None:
        self._stop_status()
        if report.fitted:
            _print_fit(report)

    def pending(self, count: int) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task("tagging", total=count)
        elif count > self.bar.tasks[0].total:
            self.bar.update(self.task, total=count)

    def progress(self, count: int) -> None:
        self.bar.advance(self.task, count)

    def _stop_status(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


@app.command("fit-touchpoints")
def fit_touchpoints(
    db: DbOption = store.DEFAULT_DB_PATH,
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
    wait: WaitOption = 3600,
) -> None:
    """Fit the store's touchpoint model now, on the catalogue, a sample of the store's posts
    and people's labels (`otklik tag` refits by itself when one of them changed); the next
    `otklik tag` re-tags with it."""
    from nlp.tagger import Tagger
    from nlp.touchpoint_learning import prepare

    _require_store(db)
    tagger = Tagger.default(catalogue)
    with (_one_at_a_time(db, "otklik fit-touchpoints", wait), store.open_db(db) as database,
          console.status("fitting the touchpoint model…")):
        fitted = prepare(database, tagger, force=True)
    _print_fit(fitted)


def _print_fit(fitted) -> None:
    console.print(fitted.line())


@app.command()
def analyze(
    db: DbOption = store.DEFAULT_DB_PATH,
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
    as_of: Annotated[str | None, typer.Option(
        help="Analyse as if it were this UTC time (ISO-8601); default: now.")] = None,
    webhook: Annotated[str | None, typer.Option(
        envvar="OTKLIK_WEBHOOK_URL", show_envvar=True,
        help="Post new, grown and ended incidents to this webhook URL.")] = None,
    webhook_format: Annotated[WebhookFormat, typer.Option(
        help="Webhook message format.")] = WebhookFormat.slack,
    telegram_chat: Annotated[str | None, typer.Option(
        envvar="OTKLIK_TELEGRAM_CHAT", show_envvar=True,
        help="Telegram chat or channel id (with --webhook-format telegram).")] = None,
    dry_run_webhook: Annotated[bool, typer.Option(
        "--dry-run-webhook",
        help="Print the webhook messages as JSON lines instead of posting them.")] = False,
    wait: WaitOption = 3600,
) -> None:
    """Find negative spikes (alerts) and group the alerts of one event into incidents, score
    advocates, and report social NPS, share of voice, customers at risk and unanswered
    community questions. With --webhook, each new, grown or ended incident is posted once
    (one message per incident); a failed post is tried again on the next run.
    One analyze run at a time per store, and none while taggers run: it waits (--wait) for
    them, so an analysis never reads a half-tagged store."""
    import json

    from insights import daily, report
    from insights.analyze import analyze as run_analysis
    from insights.webhook import WebhookError, WebhookTarget

    loaded = load_catalogue(catalogue)
    now = _as_of(as_of)
    target = None
    if webhook or dry_run_webhook:
        try:
            target = WebhookTarget(webhook, webhook_format.value, telegram_chat, dry_run_webhook)
        except WebhookError as error:
            raise CommandError(str(error)) from None
    _require_store(db)
    with _one_at_a_time(db, "otklik analyze", wait), store.open_db(db) as database:
        with console.status("analysing") as status:
            counts = run_analysis(database, loaded, now, lambda step: status.update(step),
                                  webhook=target)
        console.print(f"{counts['brand_mentions']} of {counts['mentions']} stored mentions "
                      f"name a brand: {counts['alerts_new']} new "
                      f"alerts, {counts['alerts_updated']} updated, in "
                      f"{counts['incidents_new'] + counts['incidents_updated']} incident(s) "
                      f"({counts['incidents_new']} new); "
                      f"{counts['advocates']} advocates scored, "
                      f"{counts['clusters']} complaint clusters")
        if target is not None and target.dry_run:
            for message in counts["webhook_payloads"]:
                print(json.dumps(message, ensure_ascii=False))
            console.print(f"webhook dry run: {len(counts['webhook_payloads'])} incident "
                          "message(s) printed, none posted")
        elif target is not None:
            console.print(f"webhook: {counts['webhook_sent']} incident message(s) posted, "
                          f"{counts['webhook_failed']} failed (tried again next run)")
        with console.status("storing the dashboard's daily figures"):
            days = daily.refresh(database)
        console.print(f"daily figures of {days} changed day(s) stored")
        _print_summary(report.summary(database, loaded, now))


@app.command("app")
def run_app(
    db: DbOption = store.DEFAULT_DB_PATH,
    port: PortOption = 8501,
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
    host: Annotated[str, typer.Option(
        help="Address to listen on: 127.0.0.1 (this machine only), or 0.0.0.0 inside a "
             "container whose port only a proxy reaches.")] = "127.0.0.1",
) -> None:
    """Start the dashboard (on 127.0.0.1 unless --host); exits with its exit code."""
    load_catalogue(catalogue)  # a broken catalogue stops here, with its error
    _require_store(db)
    env = {**os.environ, "OTKLIK_DB": db if isinstance(db, str) else str(Path(db).resolve()),
           "OTKLIK_CATALOGUE": str(Path(catalogue).resolve())}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.address", host, "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               # a served dashboard watches no files: no reruns, no inotify queue overflowing
               "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    console.print(f"dashboard: http://{host}:{port}")
    raise typer.Exit(subprocess.call(command, env=env))


@app.command()
def demo(
    db: DbOption = Path("data/demo.db"),
    port: Annotated[int, typer.Option(min=1, max=65535,
                                      help="Port of the local demo site.")] = 8765,
    app_port: Annotated[int, typer.Option(min=1, max=65535,
                                          help="Port of the dashboard.")] = 8501,
    serve_app: Annotated[bool, typer.Option("--app/--no-app",
                                            help="Start the dashboard at the end.")] = True,
) -> None:
    """The whole job on a generated local community: serve it on 127.0.0.1, crawl it with
    the real spiders, tag, analyse, then start the dashboard.

    A second run the same day reuses what is stored: nothing new is crawled or tagged.
    """
    import time

    from demo.generate import DEFAULT_OUT
    from demo.run import prepare_site, serve_site

    timings = {}
    started = time.monotonic()
    if prepare_site(DEFAULT_OUT, db):
        console.print(f"generated the demo community in {DEFAULT_OUT}")
    with serve_site(DEFAULT_OUT, port, Path(db).parent / "demo-sources.yaml") as base_url:
        console.print(f"[bold]1/4 crawl[/] the demo community at {base_url}/")
        crawl(sources=None, db=db, sources_file=Path(db).parent / "demo-sources.yaml",
              resume=False, set_=["DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False",
                                  "LOG_LEVEL=WARNING"])  # the progress bars tell the rest
    timings["crawl"] = time.monotonic() - started
    console.print("[bold]2/4 tag[/]")
    tag(db=db, batch_size=64, catalogue=DEFAULT_CATALOGUE)
    timings["tag"] = time.monotonic() - started - sum(timings.values())
    console.print("[bold]3/4 analyse[/]")
    analyze(db=db, catalogue=DEFAULT_CATALOGUE, as_of=None)
    timings["analyze"] = time.monotonic() - started - sum(timings.values())
    console.print("stage times: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    if serve_app:
        console.print("[bold]4/4 dashboard[/] (Ctrl-C stops it)")
        run_app(db=db, port=app_port, catalogue=DEFAULT_CATALOGUE)


@app.command()
def export(
    what: Annotated[Export, typer.Argument(help="What to export.")],
    out: Annotated[Path, typer.Argument(help="Output file: .csv or .xlsx.")],
    db: DbOption = store.DEFAULT_DB_PATH,
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
    source: Annotated[str | None, typer.Option(help="Only this source (mentions).")] = None,
    as_of: Annotated[str | None, typer.Option(help="UTC time for 'recent' (at-risk).")] = None,
) -> None:
    """Export to CSV (UTF-8 with BOM) or XLSX, safe to open in a spreadsheet."""
    from insights.export import write_rows
    from insights.exports import EXPORTS, export_rows

    _require_store(db)
    with store.open_db(db) as database:
        rows = export_rows(what.value, database, load_catalogue(catalogue), _as_of(as_of),
                           source)
    write_rows(rows, out, EXPORTS[what.value])
    console.print(f"wrote {len(rows)} rows to {out}")


@app.command()
def digest(
    week: Annotated[str | None, typer.Option(
        help="ISO week (YYYY-Www, e.g. 2026-W46) or a date in it; default: the last full "
             "week.")] = None,
    db: DbOption = store.DEFAULT_DB_PATH,
    out: Annotated[Path | None, typer.Option(
        help="Folder to write digest-YYYY-Www.md / .html in; default: print to stdout.")] = None,
    format_: Annotated[DigestFormat, typer.Option(
        "--format", help="Markdown, e-mail HTML, or both (both needs --out).")] = DigestFormat.md,
    base_url: Annotated[str, typer.Option(
        envvar="OTKLIK_DASHBOARD_URL", show_envvar=True,
        help="The dashboard's address, for the links.")] = "http://localhost:8501",
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
) -> None:
    """What changed in a week: incidents opened, grown and ended, complaint themes that grew
    and new ones, touchpoints whose negative share moved most, customers at risk not yet
    contacted, advocates who appeared; each line links to its dashboard view."""
    from dashboard.data import display_names
    from insights.digest import build_digest, parse_week
    from insights.digest_facts import digest_facts
    from insights.digest_render import to_html, to_markdown

    chosen = parse_week(week)
    if format_ is DigestFormat.both and out is None:
        raise CommandError("--format both writes two files: pass --out FOLDER")
    loaded = load_catalogue(catalogue)
    _require_store(db)
    with store.open_db(db) as database:
        built = build_digest(chosen, digest_facts(database, loaded, chosen), base_url,
                             display_names(loaded))
    texts = {"md": to_markdown(built), "html": to_html(built)}
    wanted = ["md", "html"] if format_ is DigestFormat.both else [format_.value]
    if out is None:
        sys.stdout.write(texts[wanted[0]])
    else:
        Path(out).mkdir(parents=True, exist_ok=True)
        for kind in wanted:
            path = Path(out) / f"digest-{chosen.label}.{kind}"
            path.write_text(texts[kind], encoding="utf-8")
            console.print(f"wrote {path}", highlight=False)
    console.print(f"digest of {chosen.describe()}: "
                  + ("a quiet week" if built.empty else
                     f"{sum(len(s.lines) for s in built.sections)} line(s)"), highlight=False)


@app.command()
def stats(db: DbOption = store.DEFAULT_DB_PATH) -> None:
    """What the store holds, and how each source's last crawl went."""
    from insights.agreement import correction_agreement, rating_agreement
    from insights.queries import counts_by, overview
    from store import sentiment_adapters, touchpoint_models

    _require_store(db)
    with store.open_db(db) as database:
        stars, humans = rating_agreement(database), correction_agreement(database)
        totals = overview(database)
        by_source = counts_by(database, "source_id")
        by_kind = counts_by(database, "kind")
        by_language = counts_by(database, "language")
        runs = store.last_runs(database)
        touchpoints = touchpoint_models.stored_model(database)
        adapter = sentiment_adapters.stored_adapter(database)
        waiting = len(touchpoint_models.review_queue(database, limit=1000))
    results.print(
        f"{totals['mentions']} mentions by {totals['authors']} authors in "
        f"{totals['threads']} threads from {totals['sources']} sources; "
        f"{totals['edited']} edited; published {totals['first_published'] or '-'} .. "
        f"{totals['last_published'] or '-'}"
    )
    for title, rows in (("source", by_source), ("kind", by_kind), ("language", by_language)):
        results.print(f"by {title}: " + (", ".join(f"{k} {n}" for k, n in rows) or "-"))
    table = Table("source", "last crawl", "status", "new", "edited", "skipped", "suppressed",
                  "flags", title="Crawls")
    for run in runs:
        counts = Counter({k.removeprefix("otklik/"): v for k, v in run["stats"].items()})
        skipped = sum(v for k, v in counts.items() if k.startswith("skipped/"))
        table.add_row(run["source"], run["finished_at"] or run["started_at"], run["status"],
                      str(counts["stored/inserted"]), str(counts["stored/updated"]),
                      str(skipped), str(counts["stored/suppressed"]),
                      ", ".join(run["flags"]) or "ok")
    results.print(table)
    results.print(f"touchpoint model: {touchpoints.version}, fitted {touchpoints.fitted_at} on "
                  f"{touchpoints.corpus} mentions; {waiting} sentences to review"
                  if touchpoints else "touchpoint model: none yet (otklik tag fits one)")
    results.print(f"sentiment adapter: {adapter.version}, fitted {adapter.fitted_at} on "
                  f"{adapter.labels} sentiment labels by people" if adapter else
                  "sentiment adapter: none (people's sentiment corrections teach one)")
    for title, result in (("star ratings", stars), ("human corrections", humans)):
        if result["n"]:
            confusion = ", ".join(f"{k} {v}" for k, v in result["confusion"].items())
            results.print(f"sentiment agrees with {title}: {result['agreement']:.1%} of "
                          f"{result['n']} ({confusion})", highlight=False)


@app.command("migrate-store")
def migrate_store(
    source: Annotated[StoreTarget, typer.Argument(
        parser=store.store_target, metavar="SRC", help="The store to copy (file or URL).")],
    destination: Annotated[StoreTarget, typer.Argument(
        parser=store.store_target, metavar="DST",
        help="A new or empty store (file or postgresql:// URL).")],
) -> None:
    """Copy a whole store into another — SQLite into PostgreSQL or back — in one
    transaction, and check that every table holds as many rows as the source's."""
    from store.transfer import copy_store

    _require_store(source)
    if store.describe_store(source) == store.describe_store(destination):
        raise CommandError("the source and the destination are the same store")
    with console.status("copying…") as status:
        counts = copy_store(source, destination, on_table=lambda table, rows: status.update(
            f"copied {table} ({rows} rows)…"))
    results.print(f"copied {sum(counts.values())} rows of {len(counts)} tables from "
                  f"{store.describe_store(source)} to {store.describe_store(destination)}; "
                  "every count checked")
    for table, rows in counts.items():
        if rows:
            results.print(f"  {table}: {rows}")


@app.command("erase-author")
def erase_author(
    source: Annotated[str, typer.Argument(help="Source id.")],
    handle: Annotated[str, typer.Argument(help="The author's handle in that source.")],
    db: DbOption = store.DEFAULT_DB_PATH,
) -> None:
    """Remove every trace of a person (right to be forgotten) and keep them out of later
    crawls; only the erasure with its counts and a keyed hash of the handle are kept."""
    from insights import daily

    _require_store(db)
    with store.open_db(db) as database:
        counts = store.erase_author(database, source, handle)
        days = daily.refresh(database)
    console.print(f"erased {counts['mentions']} mentions and {counts['quotes']} quotes, "
                  f"masked @-mentions in {counts['masked']}, rebuilt roll-ups of {days} days; "
                  "later crawls count their posts as suppressed", highlight=False)
    if not counts["file_cleared"]:
        console.print("note: another process was using the database, so the file may still "
                      "hold bytes of the erased posts until it is vacuumed when idle",
                      highlight=False)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words to find; "quotes" keep a phrase.')],
    db: DbOption = store.DEFAULT_DB_PATH,
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_SEARCH_RESULTS)] = 20,
) -> None:
    """Full-text search over mentions (Cyrillic and Latin, inflected forms by stem)."""
    _require_store(db)
    with store.open_db(db) as database:
        found = store.search_mentions(database, query, source=source, limit=limit)
    if not found:
        console.print("no mentions found")
    for result in found:
        results.print(f"[bold]{result['published_at'] or '-'}[/] {result['source']} "
                      f"{result['author'] or '?'}: {result['snippet']}", markup=True,
                      highlight=False)
        results.print(f"  {result['url']}", highlight=False)


@app.command()
def probe(
    url: Annotated[str, typer.Argument(help="A board or topic page of the forum.")],
    engine: Annotated[str | None, typer.Option(
        help="Read with this engine's selectors (default: detected from the page).")] = None,
    timezone: Annotated[str | None, typer.Option(
        help="The forum's time zone for dates shown without one (default UTC).")] = None,
) -> None:
    """Show what Otklik would read from one forum page, and a sources.yaml entry for it."""
    from crawlers.probe import ProbeError, fetch, next_url, probe_page, sources_entry

    try:
        body, content_type = fetch(url)
        found = probe_page(url, body, content_type, engine=engine, tz=timezone)
    except ProbeError as error:
        raise CommandError(str(error)) from None
    reading = found.topic if found.kind == "topic" else found.board
    results.print(f"engine: {found.engine or 'not recognised'}; read as a {found.kind} page"
                  + ("" if found.kind == "unreadable" else f" by {reading.strategy}"),
                  highlight=False)
    for note in found.notes:
        results.print(f"note: {note}", highlight=False)
    if found.kind == "topic":
        _print_probe_posts(found.topic)
    elif found.kind == "board":
        table = Table("topic", "replies / last post", title="Topics")
        for topic in found.board.topics:
            table.add_row(topic.url, " · ".join(str(p) for p in topic.signature or [] if p))
        results.print(table)
    else:
        results.print("no post and no topic link found: neither the engine selectors nor the "
                      "page structure fit this page", style="bold red")
    results.print(f"next page: {next_url(found) or '-'}", highlight=False)
    results.print("\nsources.yaml entry:")
    results.print(sources_entry(found), highlight=False, markup=False)
    if found.kind == "unreadable":
        raise typer.Exit(1)


def _print_probe_posts(reading) -> None:
    from crawlers.items import Mention
    from crawlers.pipelines import clean_mention

    table = Table("author", "date (UTC)", "first words", "quotes", "permalink", "problem",
                  title=f"Posts: {reading.readable} of {len(reading.posts)} readable")
    for post in reading.posts:
        text = clean_mention(Mention(source="probe", url=post.url or "",
                                     body_html=post.body_html)).text
        quotes = ", ".join(q.get("author") or "?" for q in post.quotes)
        table.add_row(post.author or "-", post.published_at or "-", text[:60], quotes,
                      post.url or "-", post.problem or "")
    results.print(table)


@app.command()
def check(
    catalogue: Annotated[Path, typer.Option(help="Catalogue file.")] = DEFAULT_CATALOGUE,
    sources_file: SourcesOption = DEFAULT_SOURCES,
) -> None:
    """Validate the catalogue and the sources file."""
    loaded = load_catalogue(catalogue)
    sources = load_sources(sources_file)
    results.print(f"catalogue ok: {len(loaded.own_brands)} own brands, "
                  f"{len(loaded.competitors)} competitors, {len(loaded.touchpoints)} touchpoints")
    results.print(f"sources ok: {len(sources)} sources")


def _print_summary(summary: dict) -> None:
    table = Table("#", "from → last seen", "touchpoints (posts)", "posts", "state", "words",
                  title="Incidents open or seen in the last 30 days")
    for incident in summary["incidents"]:
        touchpoints = ", ".join(f"{t['touchpoint']} {t['posts']}"
                                for t in incident["touchpoints"][:3])
        terms = ", ".join(term["term"] for term in incident["terms"][:4])
        table.add_row(str(incident["id"]),
                      f"{incident['started_at'][5:16].replace('T', ' ')} → "
                      f"{incident['last_seen_at'][5:10]}",
                      f"{incident['brand']}: {touchpoints or '–'}",
                      f"{incident['posts']} ×{incident['magnitude'] or 0:.1f}",
                      f"{incident['state']}, {incident['status']}, "
                      f"{len(incident['slices'])} alert(s)", terms)
    console.print(table)
    table = Table("brand", "NPS", "promoters", "passives", "detractors", "share of voice",
                  "change", "net sentiment", title="Brands (last 30 days)")
    voices = {voice.brand: voice for voice in summary["voice"]}
    for brand, nps in summary["nps"].items():
        voice = voices[brand]
        table.add_row(brand, "-" if nps.nps is None else f"{nps.nps:+.0f}",
                      str(nps.promoters), str(nps.passives), str(nps.detractors),
                      f"{voice.share:.0%}", f"{voice.change:+.0%}",
                      "-" if voice.net_sentiment is None else f"{voice.net_sentiment:+.2f}")
    console.print(table)
    table = Table("customer", "source", "touchpoints", "churn", "answered", "status",
                  title="Customers at risk")
    for entry in summary["at_risk"][:15]:
        table.add_row(entry.get("handle", "?"), entry.get("source", ""),
                      ", ".join(entry["touchpoints"]), churn_cell(entry),
                      "yes" if entry["answered"] else "no", entry["status"])
    console.print(table)
    asked = summary["questions"]
    console.print(f"community questions: {asked['asked']} asked, {asked['unanswered']} "
                  f"unanswered, {asked['answered_by_brand']} answered by the brand")


def _one_at_a_time(db: Path, job: str, wait: float, shared: bool = False):
    """Hold the store's lock for tagging (``shared``: taggers side by side) and analysis (one
    at a time, and never while taggers run), saying what it waits for."""

    def waiting(holder: dict) -> None:
        print(f"waiting up to {wait:.0f} s for {describe_holder(holder)} to finish on "
              f"{store.describe_store(db)}",
              file=sys.stderr)

    return hold(db, "derive", job, wait_seconds=wait, on_wait=waiting, shared=shared)


def crawl_exit_code(results: dict[str, dict]) -> int:
    """0 when every source was crawled to its end and all it read was stored; 1 when posts
    could not be stored or a crawl stopped early; 75 when a source was left to another
    crawl already running on it."""
    from crawlers.run import BUSY

    reasons = {crawl_stats.get("finish_reason") for crawl_stats in results.values()}
    if any(crawl_stats.get("otklik/store/failed") for crawl_stats in results.values()) or (
            reasons - {"finished", BUSY}):
        return 1
    return EXIT_BUSY if BUSY in reasons else 0


def churn_cell(entry: dict) -> str:
    """The at-risk table's churn column: ``→ brand`` where the customer is leaving for a
    known brand, ``→ ?`` where it is not known which, empty if no churn was said."""
    if not entry["churn"]:
        return ""
    return f"→ {entry['churn_target'] or '?'}"


def _jobs_folder(db) -> Path:
    """Where a crawl keeps its request queues to resume: beside a SQLite store, in
    ``data/jobs`` for a PostgreSQL one."""
    return Path("data/jobs") if isinstance(db, str) else Path(db).parent / "jobs"


def _require_store(db) -> None:
    """Refuse, in one line, a ``--db`` that is not an existing store: commands that read the
    store neither create it nor its folder (only ``crawl`` does)."""
    if isinstance(db, str):
        _require_server_store(db)
        return
    path = Path(db)
    if path.is_dir():
        raise CommandError(f"{path} is a folder, not a store file (pass --db FILE)")
    if not path.is_file():
        raise CommandError(f"no store at {path} (run 'otklik crawl' first, or pass --db)")
    try:
        store.open_db(path).close()
    except sqlite3.DatabaseError as error:
        raise CommandError(f"cannot read the store {path}: {error}") from None


def _require_server_store(url: str) -> None:
    from store.postgres import applied_migrations, connect

    try:
        with connect(url) as database:
            applied = applied_migrations(database)
    except psycopg.Error as error:
        raise CommandError(f"cannot reach the store {store.describe_store(url)}: "
                           f"{str(error).strip().splitlines()[0]}") from None
    if applied is None:
        raise CommandError(f"no Otklik store in {store.describe_store(url)} (run 'otklik "
                           "crawl' or 'otklik migrate-store' first, or pass --db)")


def _as_of(text: str | None):
    from datetime import UTC, datetime

    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--as-of {text!r} is not an ISO-8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=console, transient=False)


def _print_crawl_results(crawled: dict[str, dict]) -> None:
    """One line per source of what the crawl stored (stdout: the crawl's result)."""
    for source_id, crawl_stats in crawled.items():
        counts = {k.removeprefix("otklik/"): v for k, v in crawl_stats.items()
                  if k.startswith("otklik/")}
        if "busy" in counts:
            results.print(f"{source_id}: not crawled: {counts['busy']} is crawling it",
                          highlight=False)
            continue
        if counts.get("store/failed"):
            console.print(f"{source_id}: {counts['store/failed']} posts could not be stored "
                          "(the database refused every try); the next crawl fetches them again",
                          style="bold red", highlight=False)
        suppressed = counts.get("stored/suppressed", 0)  # posts of erased authors
        refused = counts.get("stored/refused", 0)  # garbling edits, changed authors
        results.print(
            f"{source_id}: {counts.get('stored/inserted', 0)} new, "
            f"{counts.get('stored/updated', 0)} edited, "
            f"{counts.get('stored/unchanged', 0)} unchanged, "
            f"{sum(v for k, v in counts.items() if k.startswith('skipped/'))} skipped, "
            f"{f'{suppressed} suppressed, ' if suppressed else ''}"
            f"{f'{refused} refused, ' if refused else ''}"
            f"finished: {crawl_stats.get('finish_reason', '?')}"
        )
        if "fleet/worker" in counts:
            console.print(f"{source_id}: fleet worker {counts['fleet/worker']}, round "
                          f"{counts['fleet/round']}: {counts.get('fleet/claimed', 0)} pages "
                          f"taken from the shared queue, {counts.get('fleet/requeued', 0)} "
                          "put back from stopped workers", highlight=False)
        for flag in crawl_stats.get("otklik/flags", []):
            console.print(f"{source_id}: {flag}", style="bold red", highlight=False)


# failures of input, files or the store, each shown as one line; click reports usage errors
USER_ERRORS = (ConfigError, store.StoreError, CommandError, CrawlFailed, ValueError,
               sqlite3.DatabaseError, psycopg.Error, OSError)


def error_line(error: BaseException) -> str:
    """One line saying what went wrong: a file error names the file and the reason."""
    if isinstance(error, OSError) and error.strerror:
        text = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    else:
        text = str(error) or type(error).__name__
    return "error: " + " ".join(text.split())


def main() -> None:
    """Entry point: run the CLI; a known failure is one line on stderr and exit code 1,
    a usage error click's usage message and exit code 2."""
    try:
        app()
    except LockBusy as busy:
        print(f"error: {describe_holder(busy.holder)} is using the store; try again when it "
              "ends, or pass a longer --wait", file=sys.stderr)
        raise SystemExit(EXIT_BUSY) from None
    except USER_ERRORS as error:
        print(error_line(error), file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
