"""The weekly digest: the week asked for, what changed in it, Markdown and e-mail HTML with
links into the dashboard, and ``otklik digest`` on the command line."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from test_cli import _one_error_line, otklik  # noqa: F401  (a fixture)
from test_insights import REFUND, analyze, incident_db  # noqa: F401  (a fixture)

import store
from config.catalogue import load_catalogue
from dashboard.data import display_names
from insights.digest import DigestFacts, Week, build_digest, parse_week
from insights.digest_facts import digest_facts
from insights.digest_render import QUIET, to_html, to_markdown
from nlp.tagger import Tagger, tag_pending

pytestmark = pytest.mark.both_backends

W46 = Week(date(2026, 11, 9))
BASE = "https://otklik.example.org"


def test_a_week_is_an_iso_week_or_a_date_in_it_and_by_default_the_last_full_week():
    assert parse_week("2026-W46") == parse_week("2026w46") == W46
    assert parse_week("2026-11-15") == W46 and parse_week("2026-11-09") == W46
    assert parse_week(None, date(2026, 11, 18)) == W46  # a Wednesday: the week before
    assert parse_week(None, date(2026, 11, 16)) == W46  # a Monday: the week before too
    assert W46.describe() == "2026-W46 (09 Nov – 15 Nov 2026)"
    for bad in ("2026-W60", "2026-13-01", "last week", "W46"):
        with pytest.raises(ValueError, match="neither an ISO week"):
            parse_week(bad)


@pytest.fixture
def weekend_db(incident_db):  # noqa: F811
    """The weekend of refund complaints (14-15 Nov), after three of them the week before,
    analysed on the Monday after."""
    for k in range(3):
        store.upsert_mention(incident_db, {
            "source": "forum", "url": f"https://f.example/early{k}", "kind": "post",
            "text": f"{REFUND} (#{40 + k})", "thread_id": f"early{k}",
            "author_handle": f"early{k}", "published_at": f"2026-11-0{4 + k}T12:00:00+00:00"})
    from test_tagger import lexicon_sentiment
    tag_pending(incident_db, Tagger(load_catalogue(), lexicon_sentiment, "lexicon-1", None, None))
    analyze(incident_db, load_catalogue(), datetime(2026, 11, 16, 6, tzinfo=UTC))
    return incident_db


def test_the_digest_of_the_week_lists_the_incident_and_the_theme_that_grew(weekend_db):
    catalogue = load_catalogue()
    digest = build_digest(W46, digest_facts(weekend_db, catalogue, W46), BASE,
                          display_names(catalogue))
    sections = {section.title: section.lines for section in digest.sections}
    (opened,) = sections["Incidents opened"]
    incident_id = weekend_db.execute("SELECT id FROM incidents").fetchone()[0]
    assert opened.text.startswith("Volna · Billing, payments & refunds: since 2026-11-14")
    assert "negative posts (Billing, payments & refunds 30" in opened.text
    assert opened.link == (f"{BASE}/trends?from=2026-11-09&to=2026-11-15&brand=volna"
                           f"&incident={incident_id}")
    grew = sections["Complaint themes that grew most"]
    assert grew[0].text.endswith(": 30 posts, 3 the week before (+27)")
    assert "дважды" in grew[0].text
    assert grew[0].link.startswith(f"{BASE}/complaints?from=2026-11-09&to=2026-11-15&cluster=c")
    waiting = sections["Customers at risk not yet contacted"]
    assert len(waiting) == 6 and waiting[-1].text == "… and 29 more"
    assert all(line.link.endswith("status=new") for line in waiting)
    assert not digest.empty
    markdown = to_markdown(digest)
    assert "- [Volna · Billing, payments & refunds: since 2026-11-14" in markdown
    assert f"]({BASE}/trends?from=2026-11-09&to=2026-11-15&brand=volna" in markdown


def test_an_empty_week_says_so():
    digest = build_digest(W46, DigestFacts(), BASE)
    assert digest.empty and all(not section.lines for section in digest.sections)
    markdown, page = to_markdown(digest), to_html(digest)
    assert QUIET in markdown and QUIET in page
    assert "_No incident opened this week._" in markdown
    assert f"]({BASE}/digest?week=2026-W46)" in markdown


def test_the_html_is_self_contained_and_escapes_every_text():
    days = Counter({"2026-11-10": 4, "2026-10-01": 1})
    facts = DigestFacts(clusters=[{"id": "c1", "label": '<script>alert(1)</script> "a" & b',
                                   "size": 5}], cluster_days={"c1": days})
    page = to_html(build_digest(W46, facts, BASE))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;a&quot; &amp; b: 4 posts, 0 the week before (+4)" in page
    assert 'href="https://otklik.example.org/complaints?from=2026-11-09&amp;to=2026-11-15' \
           '&amp;cluster=c1"' in page
    for external in ("<link", "<style", "<script", "src=", "url("):
        assert external not in page
    assert page.count('style="') > 10  # inline styles only
    markdown = to_markdown(build_digest(W46, facts, BASE))
    assert r"\<script\>alert(1)\</script\>" in markdown


def test_touchpoints_whose_negative_share_moved_most_against_the_week_before():
    days = {("2026-11-10", "billing"): (20, 15), ("2026-11-03", "billing"): (20, 5),
            ("2026-11-11", "network"): (30, 10), ("2026-11-04", "network"): (30, 9),
            ("2026-11-12", "delivery"): (3, 3), ("2026-11-05", "delivery"): (9, 0)}
    digest = build_digest(W46, DigestFacts(touchpoint_days=days), BASE, {"billing": "Billing"})
    lines = next(s.lines for s in digest.sections if s.title.startswith("Touchpoints"))
    assert [line.text for line in lines] == [
        "Billing: 75% negative, 25% the week before (+50 points; 20 mentions)",
        "network: 33% negative, 30% the week before (+3 points; 30 mentions)"]  # delivery: 3
    assert lines[0].link == f"{BASE}/journey?from=2026-11-02&to=2026-11-15"


def test_incidents_that_grew_and_ended_in_the_week():
    def incident(i, started, last, state, course):
        return {"id": i, "brand": "volna", "started_at": started, "last_seen_at": last,
                "state": state, "posts": sum(n for _, n in course), "course": course,
                "touchpoints": [{"touchpoint": "network", "posts": 3}], "terms": []}

    grew = incident(1, "2026-11-05T00:00:00+00:00", "2026-11-12T00:00:00+00:00", "open",
                    [["2026-11-05T00:00:00+00:00", 9], ["2026-11-11T00:00:00+00:00", 4]])
    ended = incident(2, "2026-11-01T00:00:00+00:00", "2026-11-10T00:00:00+00:00", "ended",
                     [["2026-11-01T00:00:00+00:00", 7]])
    digest = build_digest(W46, DigestFacts(incidents=[grew, ended]))
    sections = {section.title: section.lines for section in digest.sections}
    assert [line.text.split(";")[0] for line in sections["Incidents that grew"]] == [
        "volna · network: +4 posts this week, began 2026-11-05"]
    assert [line.text.split(";")[0] for line in sections["Incidents ended"]] == [
        "volna · network: over 2026-11-10, began 2026-11-01"]
    assert sections["Incidents opened"] == ()


def test_the_command_writes_markdown_and_html_and_refuses_a_bad_week(
        otklik, weekend_db, db_path, tmp_path):  # noqa: F811
    out = tmp_path / "digests"
    result = otklik("digest", "--db", str(db_path), "--week", "2026-11-12", "--out", str(out),
                    "--format", "both", "--base-url", BASE)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["digest-2026-W46.html",
                                                   "digest-2026-W46.md"]
    assert "Billing" in (out / "digest-2026-W46.md").read_text(encoding="utf-8")
    shown = otklik("digest", "--db", str(db_path), "--week", "2026-W46", "--format", "html")
    assert shown.returncode == 0 and shown.stdout.startswith("<!DOCTYPE html>")
    line = _one_error_line(otklik("digest", "--db", str(db_path), "--week", "2026-W60"))
    assert line.startswith("error: week '2026-W60' is neither an ISO week")
    line = _one_error_line(otklik("digest", "--db", str(db_path), "--format", "both"))
    assert line == "error: --format both writes two files: pass --out FOLDER"
    quiet = otklik("digest", "--db", str(db_path), "--week", "2025-W01")
    assert quiet.returncode == 0 and QUIET in quiet.stdout
    assert "a quiet week" in quiet.stderr


def test_the_default_week_is_the_last_full_one(otklik, weekend_db, db_path):  # noqa: F811
    result = otklik("digest", "--db", str(db_path))
    monday = datetime.now(UTC).date()
    monday -= timedelta(days=monday.weekday() + 7)
    assert result.returncode == 0
    assert result.stdout.startswith(f"# Otklik weekly digest: {Week(monday).label}")
