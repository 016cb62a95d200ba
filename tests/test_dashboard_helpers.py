"""The dashboard's pure helpers: filters and the URL, aggregates, evidence and escaping."""

from collections import Counter
from datetime import date
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from dashboard import aggregates as agg
from dashboard import tables
from dashboard.evidence import (
    Span,
    escape_markdown,
    hit_spans,
    safe_url,
    segments,
    sentence_spans,
    to_markdown,
)
from dashboard.filters import Choices, Filters, day_of, from_query, query_string, with_changes
from insights.mention_facts import BrandMention
from insights.rollups import group, rollup_rows

CHOICES = Choices(brands=("volna", "telenova"), languages=("en", "ru", "uk"),
                  sources=("forum", "reviews"), last_day=date(2026, 11, 20))
PERIOD = Filters(date(2026, 11, 14), date(2026, 11, 20))  # a week


def bm(mention, day, *, brand="volna", stance="negative", author="olga", source="forum",
       product=None, touchpoints=(), intents=(), duplicate=False, hour=10, language="ru"):
    return BrandMention(mention, author, source, f"{source}:{mention}",
                        f"{day}T{hour:02d}:00:00+00:00", brand, product, stance, stance,
                        tuple(touchpoints), tuple(intents), None, 0, 0, 0, duplicate, False,
                        f"https://f.example/{mention}", "текст", language)


def totals(rows, table, by, first="2026-11-07", last="2026-11-20", **where):
    """What ``insights.daily.Window.totals`` returns for these rows (all days stale)."""
    return group([row for row in rollup_rows(rows)[table] if first <= row[0] <= last],
                 table, by, where)


# --- filters ---------------------------------------------------------------------------

def test_default_period_is_four_weeks_up_to_the_latest_mention():
    filters, problems = from_query({}, CHOICES)
    assert (filters.start, filters.end, problems) == (date(2026, 10, 24), date(2026, 11, 20), [])
    assert filters.previous == (date(2026, 9, 26), date(2026, 10, 23))


def test_filters_round_trip_through_the_query_string():
    filters = Filters(date(2026, 10, 1), date(2026, 10, 31), "volna", "uk", "forum")
    assert query_string(filters, {"q": "роуминг", "empty": ""}) == (
        "from=2026-10-01&to=2026-10-31&brand=volna&lang=uk&source=forum"
        "&q=%D1%80%D0%BE%D1%83%D0%BC%D0%B8%D0%BD%D0%B3")
    parsed, problems = from_query({k: [v] for k, v in filters.to_query().items()}, CHOICES)
    assert parsed == filters and problems == []
    assert Filters.from_key(filters.key()) == filters


def test_bad_link_values_are_dropped_and_named():
    filters, problems = from_query({"from": "yesterday", "to": "2026-11-10", "brand": "nokia",
                                    "lang": "de"}, CHOICES)
    assert filters.end == date(2026, 11, 10) and filters.days == 28
    assert filters.brand is None and filters.language is None
    assert len(problems) == 3 and any("nokia" in p and "volna" in p for p in problems)


def test_a_backwards_range_is_put_in_order():
    filters, _ = from_query({"from": "2026-11-10", "to": "2026-11-01"}, CHOICES)
    assert (filters.start, filters.end) == (date(2026, 11, 1), date(2026, 11, 10))
    assert with_changes(filters, start=date(2026, 12, 1)).start == date(2026, 11, 10)


def test_day_of_reads_utc_and_offset_times():
    assert day_of("2026-11-20T23:30:00+00:00") == "2026-11-20"
    assert day_of("2026-11-21T01:30:00+03:00") == "2026-11-20"
    assert day_of("garbage") is None and day_of(None) is None


def test_period_bounds_are_inclusive():
    assert PERIOD.contains("2026-11-14T00:00:00+00:00")
    assert PERIOD.contains("2026-11-20T23:59:59+00:00")
    assert not PERIOD.contains("2026-11-13T23:59:59+00:00")
    assert PERIOD.in_previous("2026-11-07T00:00:00+00:00")


# --- aggregates ------------------------------------------------------------------------

def test_kpis_with_changes_against_the_previous_period():
    rows = [bm("1", "2026-11-15"), bm("2", "2026-11-16", stance="positive", author="ivan"),
            bm("3", "2026-11-17", stance="positive", author="petro"),
            bm("4", "2026-11-10"), bm("5", "2026-11-11"),
            bm("6", "2026-11-16", brand="telenova", author="kate"),
            bm("7", "2026-11-16", duplicate=True)]
    brand_days = totals(rows, "brand_days", ("day", "brand", "brands"))
    assert sum(sums[0] for sums in brand_days.values()) == 6  # a cross-posted copy: left out
    authors = [totals(rows, "author_days", ("brand", "author_id"), *days, brand=["volna"])
               for days in (("2026-11-14", "2026-11-20"), ("2026-11-07", "2026-11-13"))]
    kpis = {k.label: k for k in agg.overview_kpis(brand_days, *authors, PERIOD, ["volna"],
                                                  ["volna", "telenova"])}
    assert (kpis["Mentions"].value, kpis["Mentions"].previous) == (3, 2)
    assert agg.format_change(kpis["Mentions"]) == "+1 (+50.0%)"
    assert (kpis["Negative share"].value, kpis["Negative share"].previous) == (33.3, 100.0)
    assert agg.format_change(kpis["Negative share"]) == "-66.7 pts"
    assert kpis["Net sentiment"].value == 33.3
    assert kpis["Social NPS"].value == pytest.approx(33.3)  # 2 promoters, 1 detractor of 3
    assert (kpis["Share of voice"].value, kpis["Share of voice"].previous) == (75.0, 100.0)


def test_a_post_naming_two_chosen_brands_counts_once():
    rows = [bm("1", "2026-11-15"), bm("1", "2026-11-15", brand="telenova", stance="positive"),
            bm("2", "2026-11-16", brand="telenova")]
    brand_days = totals(rows, "brand_days", ("day", "brand", "brands"))
    both = agg.brand_sums(brand_days, ["volna", "telenova"], "2026-11-14", "2026-11-20")
    assert (both["posts"], both["mentions"], both["negative"], both["positive"]) == (2, 3, 2, 1)
    assert agg.brand_sums(brand_days, ["telenova"], "2026-11-14", "2026-11-20")["posts"] == 2


def test_kpi_formatting_without_a_previous_value():
    kpi = agg.Kpi("Mentions", 3, None)
    assert agg.format_change(kpi) is None and agg.format_number(1234) == "1 234"
    assert agg.format_number(None) == "–" and agg.format_number(12.345, "%") == "12.3%"


def test_roll_ups_select_brand_source_and_language():
    rows = [bm("1", "2026-11-15", source="forum"),
            bm("2", "2026-11-15", source="reviews", language="uk"),
            bm("3", "2026-11-15", brand="telenova", language="uk")]
    uk = totals(rows, "brand_days", ("brand",), brand="volna", language="uk")
    assert uk == {("volna",): [1, 1, 0, 0]}
    forum = totals(rows, "brand_days", ("day", "brand", "brands"), source_id="forum")
    assert agg.post_count(forum, None) == 2 and agg.post_count(forum, ["volna"]) == 1
    assert agg.post_count(totals(rows, "brand_days", ("brand", "brands")), None) == 3


def test_daily_sentiment_has_every_day_of_the_period():
    rows = [bm("1", "2026-11-15"), bm("2", "2026-11-15", stance="positive")]
    daily = agg.daily_sentiment(totals(rows, "brand_days", ("day", "brand", "brands")),
                                PERIOD, ["volna"])
    assert len({row["day"] for row in daily}) == 7
    assert {row["sentiment"] for row in daily} == {"negative", "neutral", "positive"}
    assert {(r["day"], r["sentiment"]): r["mentions"] for r in daily}[
        ("2026-11-15", "negative")] == 1
    untagged = agg.daily_sentiment(totals([bm("3", "2026-11-16", stance=None)], "brand_days",
                                          ("day", "brand", "brands")), PERIOD, ["volna"])
    assert {(r["day"], r["sentiment"]): r["mentions"] for r in untagged}[
        ("2026-11-16", "untagged")] == 1


def test_journey_cells_count_each_post_once_per_touchpoint_and_week():
    rows = [bm("1", "2026-11-16", touchpoints=[("billing", "negative")]),
            bm("1", "2026-11-16", brand="telenova", touchpoints=[("billing", "negative")]),
            bm("2", "2026-11-17", stance="positive", touchpoints=[("billing", "positive")]),
            bm("3", "2026-11-10", touchpoints=[("billing", "neutral")]),
            bm("4", "2026-11-18", touchpoints=[("support", "negative")])]
    both = ["volna", "telenova"]
    found = totals(rows, "touchpoint_days", ("day", "touchpoint", "brand", "brands"))
    cells = agg.journey_cells(found, both, None, ["billing", "support", "network"])
    billing = next(c for c in cells if c["touchpoint"] == "billing" and c["week"] == "2026-11-16")
    assert (billing["mentions"], billing["negative"], billing["negative_share"]) == (2, 1, 50.0)
    assert {"touchpoint": "network", "week": None, "mentions": 0, "negative": 0,
            "negative_share": None} in cells
    worst = agg.hurting(cells)
    assert [c["touchpoint"] for c in worst] == ["support", "billing"]  # 100% before 50%
    assert worst[0]["change"] == 1
    posts = agg.cell_posts(rows, "billing", "2026-11-16")
    assert [m.mention_id for m in posts] == ["1", "2"]  # negative first
    assert [m.mention_id for m in agg.cell_rows(rows, PERIOD, ["telenova"])] == ["1"]


def test_week_of_is_the_monday():
    assert agg.week_of("2026-11-22") == "2026-11-16" and agg.week_of("2026-11-16") == "2026-11-16"


def test_slices_series_and_spike_marks():
    rows = [bm(str(i), f"2026-11-{14 + i % 7:02d}", product="volna-home",
               touchpoints=[("billing", "negative")]) for i in range(10)]
    rows.append(bm("x", "2026-11-08", product="volna-home", touchpoints=[("billing",
                                                                           "negative")]))
    slices = agg.slice_days(
        totals(rows, "brand_days", ("day", "brand", "product")),
        totals(rows, "touchpoint_days", ("day", "brand", "product", "touchpoint")))
    table = agg.slice_table(slices, PERIOD)
    top = table[0]
    assert top["negative"] == 10 and top["previous_negative"] == 1 and top["change"] == 9
    assert {row["slice"] for row in table} == {"volna/*/*", "volna/volna-home/*",
                                               "volna/*/billing", "volna/volna-home/billing"}
    series = agg.negative_series(agg.daily_negatives(slices, PERIOD), PERIOD,
                                 ["volna/volna-home/billing"])
    assert len(series) == 7 and sum(r["negative"] for r in series) == 10
    alerts = [{"id": 1, "key": "volna/volna-home/billing", "started_at": "2026-11-01T00:00:00",
               "last_seen_at": "2026-11-16T00:00:00+00:00", "status": "open"},
              {"id": 2, "key": "volna/*/*", "started_at": "2026-11-15T00:00:00+00:00",
               "last_seen_at": "2026-11-15T00:00:00+00:00", "status": "open"}]
    marks = agg.spike_marks(alerts, ["volna/volna-home/billing"], PERIOD)
    assert marks == [{"slice": "volna/volna-home/billing", "id": 1, "start": "2026-11-14",
                      "end": "2026-11-16", "status": "open", "magnitude": None}]


def test_alert_words_and_matching():
    assert agg.alert_terms([{"term": "роуминг", "incident_posts": 4}, "x"]) == [
        "роуминг (4 posts)", "x"]
    assert agg.alert_matches({"brand": "volna"}, Filters(PERIOD.start, PERIOD.end, "volna"))
    assert not agg.alert_matches({"brand": "volna"},
                                 Filters(PERIOD.start, PERIOD.end, "telenova"))


def test_advocate_table_filters_and_flattens_components():
    advocates = [
        {"author_id": "a", "handle": "kate", "source": "forum", "brand": "volna", "score": 70,
         "mentions": 9, "components": {"positive": 20.0}},
        {"author_id": "b", "handle": "ivan", "source": "reviews", "brand": "volna", "score": 80,
         "mentions": 2, "components": {"positive": 10.0}}]
    table = tables.advocate_table(advocates, languages={"a": "uk", "b": "ru"})
    assert [r["handle"] for r in table] == ["ivan", "kate"] and table[0]["positive"] == 10.0
    assert [r["handle"] for r in tables.advocate_table(advocates, min_mentions=3)] == ["kate"]
    assert [r["handle"] for r in tables.advocate_table(
        advocates, language="uk", languages={"a": "uk", "b": "ru"})] == ["kate"]
    assert tables.advocate_table(advocates, source="vk") == []


def test_nps_classes_put_detractors_first():
    rows = [bm("1", "2026-11-15", author="a", stance="negative"),
            bm("2", "2026-11-15", author="b", stance="positive"),
            bm("3", "2026-11-15", author="c", stance="neutral"),
            bm("4", "2026-11-16", author="c", stance="positive", intents=["recommendation"])]
    classes = tables.nps_classes(totals(rows, "author_days", ("brand", "author_id")),
                                 ["volna"])
    assert [(r["author_id"], r["class"], r["posts"]) for r in classes] == [
        ("a", "detractor", 1), ("c", "promoter", 2), ("b", "promoter", 1)]
    assert classes[1]["recommended"] and not classes[2]["recommended"]


def test_author_language_is_the_most_frequent():
    rows = [bm("1", "2026-11-15", language="uk"), bm("2", "2026-11-15", language="uk"),
            bm("3", "2026-11-15", language="ru"), bm("4", "2026-11-15", language=None)]
    found = totals(rows, "author_days", ("author_id", "language"))
    assert tables.author_languages(found) == {"olga": "uk"}


def test_questions_unanswered_slow_and_answered():
    base = {"author": "a", "url": "u", "text": "?", "answered_by": None, "by_brand": False}
    questions = [
        {**base, "mention_id": "q1", "asked_at": "2026-11-20T00:00:00+00:00",
         "answered_at": None, "hours_to_answer": None},
        {**base, "mention_id": "q2", "asked_at": "2026-11-15T00:00:00+00:00",
         "answered_at": "2026-11-17T00:00:00+00:00", "hours_to_answer": 48.0},
        {**base, "mention_id": "q3", "asked_at": "2026-11-15T00:00:00+00:00",
         "answered_at": "2026-11-15T02:00:00+00:00", "hours_to_answer": 2.0},
        {**base, "mention_id": "q4", "asked_at": "2026-10-01T00:00:00+00:00",
         "answered_at": None, "hours_to_answer": None}]
    rows = tables.question_rows(questions, PERIOD, {"q1": "forum", "q2": "forum", "q3": "vk"}, 24)
    assert [(r["mention_id"], r["status"]) for r in rows] == [
        ("q1", "unanswered"), ("q2", "slow"), ("q3", "answered")]
    assert rows[0]["hours"] == 24.0  # waited until the end of the period
    only_forum = Filters(PERIOD.start, PERIOD.end, source="forum")
    assert len(tables.question_rows(questions, only_forum, {"q1": "forum", "q2": "forum"}, 24)) == 2


def test_source_rows_sum_errors_and_flag_layout_changes():
    runs = [{"source": "forum", "started_at": "t0", "finished_at": "t1", "status": "finished",
             "stats": {"otklik/stored/inserted": 3, "otklik/skipped/old": 2,
                       "log_count/ERROR": 1, "downloader/response_status_count/503": 2,
                       "downloader/response_status_count/200": 9},
             "flags": ["layout changed"]}]
    rows = tables.source_rows(runs, [("forum", 10), ("vk", 4)])
    assert rows[0] | {} == {"source": "forum", "status": "finished", "last crawl": "t1",
                            "stored mentions": 10, "new": 3, "edited": 0, "skipped": 2,
                            "errors": 3, "flags": "layout changed", "layout changed": True}
    assert rows[1]["source"] == "vk" and rows[1]["status"] == "no crawl recorded"


def test_flatten_for_export_makes_cells_text():
    rows = tables.flatten_for_export([{"touchpoints": ["billing", "support"], "posts": [
        {"published_at": "t", "url": "https://x"}], "components": {"b": 1, "a": 2}}])
    assert rows == [{"touchpoints": "billing, support", "posts": "t https://x",
                     "components": "a=2, b=1"}]


def test_cluster_rows_summarise_members():
    clusters = [{"id": "c1", "label": "refunds", "size": 3, "terms": ["refund"],
                 "details": {"languages": [["ru", 2], ["uk", 1]],
                             "products": [["volna-home", 2]],
                             "touchpoints": [["billing", 3], ["support", 1], ["network", 1],
                                             ["churn", 1]]}}]
    days = {"c1": Counter({"2026-11-15": 1, "2026-11-16": 1, "2026-11-03": 1})}
    row = tables.cluster_rows(clusters, days, PERIOD)[0]
    assert row["trend"] == [1, 1, 1] and row["in_period"] == 2
    assert (row["products"], row["terms"]) == ("volna-home", "refund")
    assert (row["languages"], row["touchpoints"]) == ("ru, uk", "billing, support, network")


def test_post_matches_for_searched_posts():
    rows = [bm("1", "2026-11-15", product="volna-home", touchpoints=[("billing", "negative")])]
    assert agg.post_matches(rows, PERIOD, product="volna-home", touchpoint="billing",
                            sentiment="negative")
    assert not agg.post_matches(rows, PERIOD, touchpoint="support")
    assert agg.post_matches(None, PERIOD)
    assert not agg.post_matches(None, Filters(PERIOD.start, PERIOD.end, "volna"))


# --- evidence and escaping -------------------------------------------------------------

TEXT = "Волна списала деньги. Подключение было быстрым."


def test_segments_cover_the_text_and_mark_evidence():
    spans = sentence_spans(TEXT, [{"text": "Волна списала деньги.", "label": "negative"}])
    spans += hit_spans(TEXT, [{"kind": "brand", "key": "volna", "start": 0, "end": 5,
                               "evidence": "Волна"},
                              {"kind": "touchpoint", "key": "billing", "start": 99, "end": 120,
                               "evidence": "списала деньги"}])  # stale offsets: looked up
    pieces = segments(TEXT, spans)
    assert "".join(p.text for p in pieces) == TEXT
    assert [(p.text, p.sentence, p.match) for p in pieces[:4]] == [
        ("Волна", "negative", "brand: volna"), (" ", "negative", None),
        ("списала деньги", "negative", "touchpoint: billing"), (".", "negative", None)]
    assert pieces[-1].sentence is None and pieces[-1].match is None


def test_a_hit_that_cannot_be_found_is_left_out():
    assert hit_spans(TEXT, [{"kind": "brand", "key": "x", "start": None, "end": None,
                             "evidence": "Теленова"}]) == []
    assert segments("abc", [Span(2, 9, "match", "bad")]) == [segments("abc", [])[0]]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _render(markdown: str) -> _Collect:
    html = MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)
    collected = _Collect()
    collected.feed(html)
    return collected


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "[click](javascript:alert(3)) ![x](http://evil/x.png) <http://evil>",
    "**bold** _it_ `code` ~~gone~~ # heading\n> quote\n- item\n1. one\n---\n| a | b |",
    "    indented code\n\ttab",
    ":red[colour] :smile: :material/home: $x^2$ $$y$$ &amp; &#60;b&#62; \\*",
    "Дякую, Волна! Ціна — 100₴ * 2 = 200₴ (акція)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_markdown_renders_as_the_literal_text(text):
    rendered = _render(escape_markdown(text))
    assert set(rendered.tags) <= {"p", "br"}, rendered.tags
    shown = "".join(rendered.text)
    assert "".join(shown.split()) == "".join(text.split())  # every character, literally


def test_highlight_markup_wraps_only_escaped_text():
    pieces = segments("x <b>Волна</b> y", [Span(2, 14, "match", "brand")])
    markdown = to_markdown(pieces)
    assert markdown == "x **\\<b\\>Волна\\<\\/b\\>** y"
    rendered = _render(markdown)
    assert rendered.tags == ["p", "strong"]
    sentence = to_markdown(segments("a. Bad [x] here", [Span(3, 15, "sentence", "negative")]))
    assert sentence == "a\\. :red-background[Bad \\[x\\] here]"


def test_only_http_links_are_shown():
    assert safe_url("https://f.example/t/1") == "https://f.example/t/1"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert safe_url(None) is None and safe_url("http://a b") is None
