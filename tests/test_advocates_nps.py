from datetime import UTC, datetime

import pytest

from insights.advocates import AuthorFacts, rank_advocates, score_advocate
from insights.mention_facts import BrandMention
from insights.nps import AuthorStance, classify, nps_over_time, period_of, social_nps

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _facts(author, **values):
    return AuthorFacts(author_id=author, brand="volna", **values)


CRAFTED = [
    # recommends and praises week after week for two months
    _facts("steady", posts=9, positive=8, recommendations=4, active_weeks=8, answers=2,
           last_support_at="2026-11-15T10:00:00+00:00", reach=120),
    # one enthusiastic evening, never again
    _facts("one_off_fan", posts=3, positive=3, recommendations=1, active_weeks=1,
           last_support_at="2026-09-02T20:00:00+00:00", reach=15),
    # stands up for the brand in threads that complain about it
    _facts("defender", posts=5, positive=4, negative=1, defences=3, active_weeks=4,
           last_support_at="2026-11-10T09:00:00+00:00", reach=60),
    # 12 near-identical promotional posts with links
    _facts("promo_bot", posts=12, positive=12, recommendations=12, active_weeks=6,
           duplicates=11, with_links=12, last_support_at="2026-11-19T12:00:00+00:00",
           reach=40),
    # mostly complains
    _facts("critic", posts=6, positive=1, negative=5, active_weeks=5,
           last_support_at="2026-10-01T12:00:00+00:00", reach=80),
]


def test_steady_recommender_ranks_above_a_one_off_fan_and_spam_is_excluded():
    ranked = [score.author_id for score in rank_advocates(CRAFTED, NOW)]
    assert ranked[0] == "steady"
    assert ranked.index("steady") < ranked.index("one_off_fan")
    assert "promo_bot" not in ranked
    assert ranked.index("defender") < ranked.index("critic")


def test_components_explain_the_score():
    steady = score_advocate(CRAFTED[0], NOW)
    defender = score_advocate(CRAFTED[2], NOW)
    assert defender.components["defence"] > 0 and steady.components["defence"] == 0
    assert score_advocate(CRAFTED[1], NOW).components["consistency"] == 0
    assert steady.components["stance"] == 1.0
    assert 0 < steady.score <= 100
    assert score_advocate(CRAFTED[3], NOW).spam_like


def test_nps_on_a_hand_counted_set():
    stances = [
        AuthorStance("a", "volna", ("positive", "positive")),          # promoter
        AuthorStance("b", "volna", ("neutral",), recommended=True),    # promoter
        AuthorStance("c", "volna", ("positive", "negative")),          # passive
        AuthorStance("d", "volna", ("neutral",)),                      # passive
        AuthorStance("e", "volna", ("negative",)),                     # detractor
        AuthorStance("f", "volna", ("positive",), churned=True),       # detractor
        AuthorStance("g", "volna", ("negative", "negative"), recommended=True),  # detractor
    ]
    assert [classify(s) for s in stances] == ["promoter", "promoter", "passive", "passive",
                                              "detractor", "detractor", "detractor"]
    result = social_nps(stances)
    assert (result.promoters, result.passives, result.detractors) == (2, 2, 3)
    assert result.nps == round(100 * (2 - 3) / 7, 1)
    assert social_nps([]).nps is None


def _row(mention, author, published, brand, stance, product=None, intents=(), churn_target=None,
         duplicate=False, customer=True):
    return BrandMention(mention, author, "forum", f"forum:{mention}", published, brand, product,
                        stance, stance, (), tuple(intents), churn_target, 0, 0, 0, duplicate,
                        False, f"https://f.example/{mention}", "текст", customer=customer)


OVER_TIME = [
    # anna: a promoter of Volna mobile in October, a detractor in November
    _row("1", "anna", "2026-10-05T10:00:00+00:00", "volna", "positive", "volna-mobile"),
    _row("2", "anna", "2026-10-20T10:00:00+00:00", "volna", "positive", "volna-mobile"),
    _row("3", "anna", "2026-11-03T10:00:00+00:00", "volna", "negative", "volna-mobile"),
    # boris: passive in October, recommends in November
    _row("4", "boris", "2026-10-07T10:00:00+00:00", "volna", "neutral"),
    _row("5", "boris", "2026-11-10T10:00:00+00:00", "volna", "neutral",
         intents=["recommendation"]),
    # 01:30 on November 1st in Kyiv (+02:00) is still October 31st in UTC
    _row("6", "boris", "2026-11-01T01:30:00+02:00", "volna", "negative"),
    # a channel's praise and a cross-posted copy do not vote
    _row("7", "channel", "2026-11-12T10:00:00+00:00", "volna", "positive", customer=False),
    _row("8", "copycat", "2026-11-12T10:00:00+00:00", "volna", "positive", duplicate=True),
    # dima: a Telenova detractor in October; in November he leaves it for Volna
    _row("9", "dima", "2026-10-09T10:00:00+00:00", "telenova", "negative"),
    _row("10", "dima", "2026-11-15T10:00:00+00:00", "telenova", "neutral", intents=["churn"],
         churn_target="volna"),
]


def test_nps_per_brand_and_product_per_month_on_a_hand_counted_set():
    table = {(p.brand, p.product, p.period): (p.result.promoters, p.result.passives,
                                               p.result.detractors, p.result.nps)
             for p in nps_over_time(OVER_TIME, "month")}
    assert table == {
        # October: anna promoter; boris neutral + negative (Oct 31st, 23:30 UTC) = detractor
        ("volna", None, "2026-10"): (1, 0, 1, 0.0),
        # November: anna detractor, boris recommends (neutral posts) = promoter
        ("volna", None, "2026-11"): (1, 0, 1, 0.0),
        ("volna", "volna-mobile", "2026-10"): (1, 0, 0, 100.0),
        ("volna", "volna-mobile", "2026-11"): (0, 0, 1, -100.0),
        ("telenova", None, "2026-10"): (0, 0, 1, -100.0),
        ("telenova", None, "2026-11"): (0, 0, 1, -100.0),
    }
    order = [(p.brand, p.product, p.period) for p in nps_over_time(OVER_TIME, "month")]
    assert order[0] == ("telenova", None, "2026-10") and order[2] == ("volna", None, "2026-10")


def test_nps_per_iso_week():
    weeks = {(p.product, p.period): p.result for p in nps_over_time(OVER_TIME, "week")
             if p.brand == "volna"}
    assert sorted(period for product, period in weeks if product is None) == [
        "2026-W41", "2026-W43", "2026-W44", "2026-W45", "2026-W46"]
    assert weeks[(None, "2026-W44")].detractors == 1  # boris, Oct 31st in UTC: week 44
    assert weeks[(None, "2026-W46")].promoters == 1  # boris's recommendation; no channel
    assert period_of("2027-01-01", "week") == "2026-W53"
    with pytest.raises(ValueError, match="choose one of week, month"):
        nps_over_time(OVER_TIME, "quarter")
