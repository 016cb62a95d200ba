"""Per-author facts for advocate scoring and social NPS, from brand mentions. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from insights.advocates import AuthorFacts
from insights.customers import is_customer
from insights.mention_facts import BrandMention, ThreadReply
from insights.nps import AuthorStance, stance_of

SUPPORTIVE = ("positive", "neutral", None)  # a reply that is not a complaint itself


@dataclass(frozen=True)
class _Post:
    """A post of a thread as the helping and defence components see it."""

    mention_id: str
    author_id: str | None
    published_at: str
    names_brand: bool
    stance: str | None  # toward the brand if it names it, else the post's sentiment
    question: bool
    customer: bool


def _week(published_at: str) -> str:
    return datetime.fromisoformat(published_at).strftime("%G-%V")


def _threads(mentions: list[BrandMention], brand: str, replies: Iterable[ThreadReply],
             official: Collection[str]) -> dict[str, list[_Post]]:
    """Each thread's posts in time order: the rows naming ``brand`` and the replies naming
    no brand (posts naming only other brands are about them, not about ``brand``)."""
    posts: dict[str, dict[str, _Post]] = defaultdict(dict)
    opener: dict[str, tuple[str, str]] = {}  # thread → (time, mention) of its first post
    for m in mentions:
        if m.thread not in opener or (m.published_at, m.mention_id) < opener[m.thread]:
            opener[m.thread] = (m.published_at, m.mention_id)
        if m.brand == brand:
            posts[m.thread][m.mention_id] = _Post(
                m.mention_id, m.author_id, m.published_at, True, m.stance,
                "question" in m.intents, is_customer(m, official))
    for r in replies:
        if r.thread not in opener or (r.published_at, r.mention_id) < opener[r.thread]:
            opener[r.thread] = (r.published_at, r.mention_id)
        posts[r.thread].setdefault(r.mention_id, _Post(
            r.mention_id, r.author_id, r.published_at, False, r.sentiment,
            "question" in r.intents,
            r.customer and r.author_id is not None and r.author_id not in official))
    return {thread: sorted(found.values(), key=lambda p: (p.published_at, p.mention_id))
            for thread, found in posts.items()
            if any(p.names_brand for p in found.values())}


def _help(threads: dict[str, list[_Post]]) -> tuple[dict, dict]:
    """Per author, the posts answering someone else's question about the brand and the
    posts defending it after someone else's complaint (``{author: [time, …]}`` each).

    A question or a complaint is about the brand when it names it, or when the thread's
    first post names it; an answer or a defence need not name the brand. A post is an
    answer when it follows a question by someone else and is neither a question nor a
    complaint; a defence when it follows a complaint by someone else and is positive (or
    neutral, when it is not already an answer)."""
    answers: dict[str, list[str]] = defaultdict(list)
    defences: dict[str, list[str]] = defaultdict(list)
    for posts in threads.values():
        about = posts[0].names_brand
        askers: set[str | None] = set()
        complainers: set[str | None] = set()
        for post in posts:
            author = post.author_id
            if author and post.customer and not post.question and post.stance in SUPPORTIVE:
                answered = bool(askers - {author})
                if answered:
                    answers[author].append(post.published_at)
                if complainers - {author} and (post.stance == "positive" or not answered):
                    defences[author].append(post.published_at)
            if post.names_brand or about:
                if post.question:
                    askers.add(author)
                if post.stance == "negative":
                    complainers.add(author)
    return answers, defences


def advocate_facts(mentions: list[BrandMention], brand: str, official: Collection[str] = (),
                   replies: Iterable[ThreadReply] = ()) -> list[AuthorFacts]:
    """What each customer (``insights.customers``; ``official``: the brand's own author
    ids) said about ``brand``: stance counts, recommendations, defences of the brand in
    threads where someone else complained, answers to others' questions about it, weeks
    active, reach, and the spam signals (cross-posted copies, links). ``replies``: the posts
    naming no brand in the threads of ``mentions`` (``insights.mention_facts.
    thread_replies``), where most answers and defences are."""
    answers, defences = _help(_threads(mentions, brand, replies, official))
    by_author: dict[str, list[BrandMention]] = defaultdict(list)
    for m in mentions:
        if m.brand == brand and is_customer(m, official):
            by_author[m.author_id].append(m)
    facts = []
    for author in sorted(set(by_author) | set(answers) | set(defences)):
        own = by_author.get(author, [])
        positive = [m for m in own if m.stance == "positive"]
        support = [m.published_at for m in positive] + answers[author] + defences[author]
        facts.append(AuthorFacts(
            author_id=author, brand=brand, posts=len(own), positive=len(positive),
            negative=sum(m.stance == "negative" for m in own),
            recommendations=sum("recommendation" in m.intents for m in own
                                if m.stance != "negative"),
            defences=len(defences[author]), answers=len(answers[author]),
            active_weeks=len({_week(when) for when in support}),
            last_support_at=max(support, default=None),
            reach=float(sum(m.likes + m.replies + m.views / 100 for m in own)),
            duplicates=sum(m.duplicate for m in own),
            with_links=sum(m.has_link for m in own),
        ))
    return facts


def author_stances(mentions: list[BrandMention], brand: str, product: str | None = None,
                   official: Collection[str] = ()) -> list[AuthorStance]:
    """Each customer's stances about a brand (or one of its products), for social NPS."""
    grouped: dict[str, list[BrandMention]] = defaultdict(list)
    for m in mentions:
        if m.brand == brand and is_customer(m, official) \
                and (product is None or m.product == product) and not m.duplicate:
            grouped[m.author_id].append(m)
    return [stance_of(author, brand, own) for author, own in sorted(grouped.items())]
