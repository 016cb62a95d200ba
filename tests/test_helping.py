"""The helping and defence components count answers and defences in a brand's threads
whether or not they name the brand: an answer to "how do I set up Volna eSIM?" rarely says
"Volna" again."""

from datetime import UTC, datetime, timedelta

import pytest

import store
from insights.advocate_facts import advocate_facts
from insights.advocates import rank_advocates
from insights.mention_facts import BrandMention, ThreadReply, brand_mentions, thread_replies
from store.tags import HitRecord, Tag, write_mention_tags

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def _row(mention, author, thread, days_ago, stance, brand="volna", intents=()):
    return BrandMention(mention, author, "forum", f"forum:{thread}", _at(days_ago), brand,
                        None, stance, stance, (), tuple(intents), None, 0, 0, 0, False,
                        False, f"https://f.example/{mention}", "текст")


def _reply(mention, author, thread, days_ago, sentiment, intents=()):
    return ThreadReply(mention, author, f"forum:{thread}", _at(days_ago), sentiment,
                       tuple(intents), True)


def _crafted():
    mentions, replies = [], []
    for week in range(3):  # three customers ask about Volna; the helper answers, unnamed
        thread = f"q{week}"
        mentions.append(_row(f"{thread}-ask", f"asker{week}", thread, 7 * week + 3, "neutral",
                             intents=["question"]))
        replies.append(_reply(f"{thread}-help", "helper", thread, 7 * week + 2.9, "neutral"))
        replies.append(_reply(f"{thread}-thanks", f"asker{week}", thread, 7 * week + 2.8,
                              "positive"))
    # the helper said once, weeks ago, that Volna suits them; the support desk never did
    mentions.append(_row("h-0", "helper", "h", 25, "positive"))
    for week in range(3):
        replies.append(_reply(f"q{week}-desk", "desk", f"q{week}", 7 * week + 2.95, "neutral"))
    # one evening of enthusiasm
    mentions += [_row("fan-1", "fan", "f1", 20, "positive", intents=["recommendation"]),
                 _row("fan-2", "fan", "f2", 20, "positive")]
    # a question about Telenova only: answering it does not help Volna
    mentions.append(_row("t-ask", "asker9", "t", 4, "neutral", "telenova", ["question"]))
    replies.append(_reply("t-help", "rival_helper", "t", 3.9, "neutral"))
    # a complaint about Volna and a positive reply that does not name it
    mentions.append(_row("c-1", "angry", "c", 6, "negative"))
    replies.append(_reply("c-2", "defender", "c", 5.9, "positive"))
    replies.append(_reply("c-3", "angry", "c", 5.8, "positive"))  # not defending against self
    return mentions, replies


def test_a_helper_whose_answers_do_not_name_the_brand_ranks_above_a_one_off_fan():
    mentions, replies = _crafted()
    facts = {f.author_id: f for f in advocate_facts(mentions, "volna", replies=replies)}
    assert facts["helper"].answers == 3 and facts["helper"].posts == 1
    assert facts["defender"].defences == 1 and facts["defender"].answers == 0
    assert "rival_helper" not in facts  # answered a question about Telenova only
    assert facts["angry"].defences == 0
    assert facts["desk"].answers == 3
    ranked = [s.author_id for s in rank_advocates(list(facts.values()), NOW)]
    assert ranked.index("helper") < ranked.index("fan")
    assert "desk" not in ranked  # answers a lot, never spoke well of the brand
    helper = next(s for s in rank_advocates(list(facts.values()), NOW)
                  if s.author_id == "helper")
    assert helper.components["helping"] > 0 and helper.components["consistency"] > 0


def test_without_the_replies_only_posts_naming_the_brand_count():
    mentions, _ = _crafted()
    facts = {f.author_id: f for f in advocate_facts(mentions, "volna")}
    assert facts["helper"].answers == 0 and "defender" not in facts


def test_a_question_in_a_thread_opened_about_the_brand_counts_even_unnamed():
    mentions = [_row("open", "opener", "x", 5, "neutral")]  # "Volna eSIM experiences"
    replies = [_reply("ask", "newbie", "x", 4, "neutral", ["question"]),  # "how do I…?"
               _reply("help", "helper", "x", 3, "neutral"),
               _reply("ask-again", "helper", "x", 2, "neutral", ["question"])]
    facts = {f.author_id: f for f in advocate_facts(mentions, "volna", replies=replies)}
    assert facts["helper"].answers == 1  # a question of their own is no answer
    assert facts["opener"].answers == 0 and "newbie" not in facts


def _post(db, n, author, thread, days_ago, brand=None, intents=(), duplicate_of=None):
    url = f"https://forum.example.com/t/{thread}#p{n}"
    store.upsert_mention(db, {
        "source": "forum", "url": url, "kind": "post", "text": f"post {n}",
        "thread_id": thread, "author_handle": author, "published_at": _at(days_ago),
        "duplicate_of": duplicate_of})
    mention = store.mention_id("forum", url)
    digest = db.execute("SELECT content_hash FROM mentions WHERE id = ?", [mention]).fetchone()[0]
    hits = [HitRecord("brand", brand, sentiment="neutral", start=0)] if brand else []
    hits += [HitRecord("intent", intent, start=10 + i) for i, intent in enumerate(intents)]
    write_mention_tags(db, mention, [Tag(mention, "sentiment", "neutral", 0.9, "s", "t", digest,
                                         {"sentences": []})], hits, "t")
    return mention


def test_thread_replies_reads_the_unnamed_posts_of_the_brand_threads(db):
    asked = _post(db, 1, "asker", "10", 5, "volna", ["question"])
    answer = _post(db, 2, "helper", "10", 4, intents=["answer"])
    _post(db, 3, "other", "10", 3, "telenova")  # names a brand: a brand row already
    _post(db, 4, "copy", "10", 3, duplicate_of=answer)  # a cross-posted copy
    _post(db, 5, "stranger", "11", 3)  # a thread naming no brand at all
    rows = brand_mentions(db)
    assert {m.mention_id for m in rows if m.brand == "volna"} == {asked}
    (reply,) = thread_replies(db, rows)
    assert (reply.mention_id, reply.thread, reply.intents, reply.sentiment) == (
        answer, "forum:10", ("answer",), "neutral")
    assert reply.author_id == store.author_id("forum", "helper") and reply.customer
    facts = {f.author_id: f for f in advocate_facts(rows, "volna", replies=[reply])}
    assert facts[store.author_id("forum", "helper")].answers == 1
