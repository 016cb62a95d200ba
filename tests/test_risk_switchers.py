"""A customer who announces switching to a competitor is at risk for the own brand they
leave, even when the announcement names only the competitor."""

from datetime import UTC, datetime

from insights.mention_facts import BrandMention
from insights.risk import customers_at_risk

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def _row(mention, author, published, brand, stance, intents=(), churn_target=None):
    return BrandMention(mention, author, "forum", f"forum:{mention}", published, brand, None,
                        stance, stance, (("onboarding", stance),), tuple(intents),
                        churn_target, 0, 0, 0, False, False, f"https://f.example/{mention}",
                        "текст")


def test_switching_to_the_competitor_counts_against_the_brand_left():
    mentions = [
        # lena named Volna earlier (neutral), then writes only "ухожу к Теленове"
        _row("1", "lena", "2026-11-05T03:00:00+00:00", "volna", "neutral"),
        _row("2", "lena", "2026-11-07T02:00:00+00:00", "telenova", "neutral", ["churn"],
             "telenova"),
        # a Telenova fan who praises it is nobody's churn risk
        _row("3", "max", "2026-11-10T09:00:00+00:00", "telenova", "positive"),
        # someone leaving Telenova for Volna is not at risk for Volna
        _row("4", "ira", "2026-11-11T09:00:00+00:00", "volna", "positive", ["churn"], "volna"),
        _row("5", "ira", "2026-11-11T09:00:00+00:00", "telenova", "negative", ["churn"],
             "volna"),
    ]
    queue = customers_at_risk(mentions, {"volna"}, NOW)
    assert [(e.author_id, e.brand, e.churn, e.churn_target) for e in queue] == [
        ("lena", "volna", True, "telenova")]
    assert queue[0].touchpoints == ["onboarding"] and queue[0].negatives == 1


def test_a_post_naming_both_brands_counts_once():
    mentions = [
        _row("1", "oleg", "2026-11-20T10:00:00+00:00", "volna", "negative", ["churn"],
             "telenova"),
        _row("1", "oleg", "2026-11-20T10:00:00+00:00", "telenova", "neutral", ["churn"],
             "telenova"),
    ]
    (entry,) = customers_at_risk(mentions, {"volna"}, NOW)
    assert entry.negatives == 1 and [p["id"] for p in entry.posts] == ["1"]


def test_with_several_own_brands_only_the_named_one_is_left():
    mentions = [
        _row("1", "ann", "2026-11-01T10:00:00+00:00", "volna-home", "neutral"),
        _row("2", "ann", "2026-11-20T10:00:00+00:00", "telenova", "neutral", ["churn"],
             "telenova"),
        _row("3", "bob", "2026-11-20T11:00:00+00:00", "telenova", "neutral", ["churn"],
             "telenova"),  # never named an own brand: which one he leaves is unknown
    ]
    queue = customers_at_risk(mentions, {"volna", "volna-home"}, NOW)
    assert [(e.author_id, e.brand) for e in queue] == [("ann", "volna-home")]
