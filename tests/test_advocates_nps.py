from datetime import UTC, datetime

from insights.advocates import AuthorFacts, rank_advocates, score_advocate
from insights.nps import AuthorStance, classify, social_nps

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
