"""Three months of a fictional telecom community as one list of posts, source-neutral.

:func:`write_story` builds the calendar (the eSIM launch, the double-charge weekend), the
people (customers, advocates, a spammer, switchers, staff) and their posts: background
threads, the planted incident and billing spike, advocates' replies, spam bursts, switchers'
stories and questions nobody answers. ``demo/generate.py`` turns the posts into each
source's data. Every random choice goes through one seeded ``random.Random``.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

from demo.generate_model import (
    WINDOW_DAYS,
    Author,
    Calendar,
    Post,
    Thread,
    quotable,
)
from demo.generate_planted import ADVOCATES, SPAMMER, PlantedStories
from demo.generate_text import (
    LANGS,
    PLAIN,
    PRODUCT_GROUP,
    Style,
    Writer,
    latin,
    random_style,
    world,
)

LANG_SHARE = {"ru": 0.55, "uk": 0.30, "en": 0.15}
HOUR_WEIGHTS = [1, .6, .3, .2, .2, .3, .6, 1.2, 2, 2.5, 2.6, 2.6, 2.8, 2.7, 2.5, 2.4, 2.5, 2.8,
                3.2, 3.6, 3.8, 3.5, 2.8, 1.8]
TOUCHPOINT_WEIGHTS = {"product-quality": 13, "network": 13, "billing": 9, "support": 11,
                      "digital": 9, "onboarding": 5, "purchase": 8, "awareness": 6,
                      "delivery": 6, "stores": 7, "churn": 6, "after-leaving": 4}
TOUCHPOINT_GROUPS = {
    "awareness": {"mobile": 3, "home": 2, "tv": 1}, "purchase": {"mobile": 3, "home": 3, "tv": 1},
    "onboarding": {"mobile": 3, "home": 3, "tv": 1, "app": 1},
    "product-quality": {"mobile": 2, "home": 4, "tv": 3}, "network": {"mobile": 4, "home": 2},
    "billing": {"mobile": 3, "home": 2, "tv": 1, "app": 1},
    "support": {"mobile": 3, "home": 2, "tv": 1, "app": 1},
    "delivery": {"mobile": 2, "home": 3, "tv": 1}, "stores": {"mobile": 4, "home": 1},
    "digital": {"app": 5, "mobile": 1}, "churn": {"mobile": 3, "home": 2, "tv": 1},
    "after-leaving": {"mobile": 3, "home": 2},
}
KIND_WEIGHTS = {"complaint": 48, "question": 34, "praise": 18}
KIND_SENTIMENT = {"complaint": "negative", "question": "neutral", "praise": "positive"}
REPLY_ROLES = {
    "complaint": {"agree": 30, "answer": 16, "staff": 10, "banter": 10, "compare": 6,
                  "followup": 8, "counter_positive": 6, "thanks": 4},
    "question": {"answer": 42, "agree_question": 10, "thanks": 14, "staff": 8, "banter": 8,
                 "followup": 8, "compare": 4},
    "praise": {"agree_positive": 40, "banter": 18, "counter": 22, "compare": 20},
}
PEOPLE = {"forum": 70, "community": 36, "reviews": 40}
BACKGROUND_THREADS = {"forum": 225, "community": 110}
BACKGROUND_REVIEWS = 150
REVIEW_PRODUCTS = {"volna-mobile": 30, "volna-home": 25, "volna-tv": 12, "volna-app": 15,
                   "telenova-mobile": 8, "telenova-home": 10}


class Story(PlantedStories):
    """The whole community; call :meth:`build` once."""

    def __init__(self, seed: int, end: date):
        self.rng = random.Random(seed)
        self.writer = Writer(self.rng)
        self.cal = Calendar(end)
        self.authors: list[Author] = []
        self.handles: set[str] = set()
        self.threads: list[Thread] = []
        self.posts: list[Post] = []  # reviews, channel posts and articles (no thread)
        self.advocates: list[Author] = []
        self.switchers: list[dict] = []
        self.spammer: Author | None = None
        self.staff: dict[str, Author] = {}
        self.bags: dict[str, list[str]] = {}
        self.switch_phrases: dict[str, set[str]] = {}  # switch phrasings used, per language

    # -- helpers -----------------------------------------------------------------------------

    def moment(self, day: datetime, after: datetime | None = None) -> datetime:
        """A time on ``day`` (weighted to busy hours), later than ``after`` when given."""
        rng = self.rng
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        when = day.replace(hour=0, minute=0, second=0) + timedelta(
            hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
        if after and when <= after:
            when = after + timedelta(minutes=rng.randrange(7, 240), seconds=rng.randrange(60))
        return when

    def some_day(self, first: int = 0, last: int = WINDOW_DAYS - 1) -> datetime:
        rng = self.rng
        while True:
            day = self.cal.day(rng.randint(first, last))
            if day.weekday() < 5 or rng.random() < 0.75:
                return day

    def lang(self, bag: str = "posts") -> str:
        """The next language from a shuffled bag holding them in ``LANG_SHARE`` proportions
        (one bag per use), so a seed cannot drift far from 55 / 30 / 15."""
        languages = self.bags.setdefault(bag, [])
        if not languages:
            languages.extend(lang for lang, share in LANG_SHARE.items()
                             for _ in range(round(share * 20)))
            self.rng.shuffle(languages)
        return languages.pop()

    def inside(self, moment: datetime) -> bool:
        return self.cal.start <= moment < self.cal.stop

    # -- people ------------------------------------------------------------------------------

    def new_handle(self, source: str, lang: str) -> tuple[str, str | None]:
        """A unique handle (and a display name for the community) in a source's style."""
        rng, names = self.rng, world()["names"]
        for _ in range(200):
            cyr, lat = rng.choice(names[lang])
            surname = rng.choice(world()["surnames"][lang])
            city = rng.choice(world()["cities"][lang])
            if source == "reviews":
                options = [f"{cyr} {surname[0]}.", cyr, f"{cyr} {surname}",
                           f"{lat.capitalize()}_{latin(city)[:3].upper()}"]
            elif source == "community":
                options = [f"{lat}_{rng.randrange(70, 100)}", f"{lat}.{latin(surname[0])}",
                           f"{lat}_{rng.choice(('kyiv', 'lviv', 'odesa', 'dnipro', 'home'))}",
                           f"{lat}{rng.randrange(1, 30)}"]
            else:
                options = [f"{lat}_{rng.randrange(70, 100)}", f"{cyr} {surname[0]}.",
                           f"{cyr}_{city}", f"{lat}.{latin(surname[0])}",
                           rng.choice(world()["nicknames"]),
                           f"{lat.capitalize()}_{latin(surname[0]).upper()}"]
            handle = rng.choice(options)
            if handle.casefold() not in self.handles:
                self.handles.add(handle.casefold())
                name = f"{cyr} {surname}" if source == "community" and rng.random() < 0.7 \
                    else None
                return handle, name
        raise RuntimeError("ran out of handles")

    def add_author(self, source: str, langs: tuple[str, ...], *, handle: str | None = None,
                   role: str = "customer", style: Style | None = None,
                   name: str | None = None, guest: bool = False) -> Author:
        if handle is None:
            handle, name = self.new_handle(source, langs[0])
        else:
            self.handles.add(handle.casefold())
        author = Author(handle, source, langs, style or random_style(self.rng), role, name,
                        guest=guest)
        if self.rng.random() < 0.05 and role == "customer" and source == "forum":
            sign = {"ru": "— {}", "uk": "З повагою, {}", "en": "— {}"}[langs[0]]
            author.style = Style(**{**author.style.__dict__,
                                    "signoff": sign.format(handle.split("_")[0])})
        self.authors.append(author)
        return author

    def make_people(self) -> None:
        rng = self.rng
        reserved = [handle for _, handle, _ in ADVOCATES] + [SPAMMER[1]] + [
            world()["forum"]["staff"]["name"], world()["community"]["staff"]["username"]]
        self.handles.update(handle.casefold() for handle in reserved)
        for source, count in PEOPLE.items():
            for _ in range(count):
                lang = self.lang(f"people-{source}")
                langs = (lang,)
                if lang in ("ru", "uk") and rng.random() < 0.25:
                    langs = (lang, "uk" if lang == "ru" else "ru")
                elif lang == "en" and rng.random() < 0.3:
                    langs = ("en", "ru")
                guest = source == "forum" and rng.random() < 0.06
                self.add_author(source, langs, guest=guest)
        for source, handle, lang in ADVOCATES:
            self.advocates.append(self.add_author(
                source, (lang,), handle=handle, role="advocate",
                style=random_style(rng, careful=True)))
        self.spammer = self.add_author(SPAMMER[0], ("ru",), handle=SPAMMER[1], role="spammer",
                                       style=PLAIN)
        forum_staff = world()["forum"]["staff"]["name"]
        hub = world()["community"]["staff"]
        self.staff["forum"] = self.add_author("forum", ("ru", "uk", "en"), handle=forum_staff,
                                              role="staff", style=PLAIN)
        self.staff["community"] = self.add_author("community", ("ru", "uk", "en"),
                                                  handle=hub["username"], name=hub["name"],
                                                  role="staff", style=PLAIN)

    def customers(self, source: str, lang: str | None = None, *, at: datetime | None = None,
                  exclude: tuple[Author, ...] = ()) -> Author:
        """A customer of ``source``, usually one who writes ``lang``."""
        pool = [a for a in self.authors if a.source == source and a.role == "customer"
                and a not in exclude and (at is None or a.active_until is None
                                          or at < a.active_until)]
        if lang and self.rng.random() < 0.85:
            speaking = [a for a in pool if lang in a.langs]
            pool = speaking or pool
        return self.rng.choice(pool)

    # -- places, products --------------------------------------------------------------------

    def topic(self, touchpoint: str | None = None, brand: str | None = None):
        """(touchpoint, brand, product) for a new thread or review."""
        rng = self.rng
        touchpoint = touchpoint or rng.choices(list(TOUCHPOINT_WEIGHTS),
                                               weights=list(TOUCHPOINT_WEIGHTS.values()))[0]
        groups = TOUCHPOINT_GROUPS[touchpoint]
        group = rng.choices(list(groups), weights=list(groups.values()))[0]
        if brand is None:
            brand = "telenova" if group in ("mobile", "home") and touchpoint not in (
                "digital", "after-leaving") and rng.random() < 0.15 else "volna"
        product = f"{brand}-{group}"
        return touchpoint, brand, product

    @staticmethod
    def place(source: str, touchpoint: str | None, brand: str, product: str | None) -> str:
        group = PRODUCT_GROUP.get(product or "", "mobile")
        if source == "forum":
            if touchpoint in ("billing", "after-leaving"):
                return "billing"
            if brand == "telenova" or touchpoint == "churn":
                return "rivals"
            if group == "app" or touchpoint == "digital":
                return "app"
            return group if group in ("tv", "home") else "mobile"
        if group in ("home", "tv"):
            return "home"
        if group == "app" or touchpoint == "digital":
            return "app"
        if brand == "telenova" or touchpoint in ("billing", "purchase", "awareness", "churn",
                                                 "after-leaving"):
            return "tariffs"
        return "support"

    # -- threads and replies -----------------------------------------------------------------

    def new_thread(self, source: str, starter: Post, title: str | None = None,
                   kind: str = "complaint", place: str | None = None) -> Thread:
        ctx = {"brand": starter.brand, "product": starter.product}
        title = title or self.writer.title(starter.lang, starter.text, starter.sentiment, ctx,
                                           starter.core)
        thread = Thread(source, place or self.place(source, starter.touchpoint, starter.brand,
                                                    starter.product),
                        starter.lang, title, kind, starter.touchpoint, starter.brand or "volna",
                        starter.product)
        starter.thread = thread
        thread.posts.append(starter)
        thread.used.update(starter.phrases)
        self.threads.append(thread)
        return thread

    def add_reply(self, thread: Thread, post: Post) -> Post:
        post.thread = thread
        if post.time <= thread.start:
            post.time = thread.start + timedelta(minutes=self.rng.randrange(20, 600))
        thread.posts.append(post)
        thread.posts.sort(key=lambda p: p.time)
        return post

    def quote_for(self, thread: Thread, author: Author, before: datetime) -> Post | None:
        earlier = [p for p in thread.posts if p.time < before and p.author is not author
                   and p.role not in ("spam", "staff", "banter") and quotable(p.text)][-3:]
        return self.rng.choice(earlier) if earlier else None

    def attach_quote(self, post: Post, source_post: Post) -> None:
        """Quote the first real sentence of an earlier post (not a greeting)."""
        sentence = quotable(source_post.text)
        if sentence:
            post.quote, post.quote_text = source_post, sentence

    def text(self, lang: str, path: tuple[str, ...], author: Author, sentiment: str,
             ctx: dict, thread: Thread | None = None, **kwargs) -> str:
        group = PRODUCT_GROUP.get(ctx.get("product") or "")
        if ctx.get("brand") == "telenova":  # no phrases about Volna in a Telenova thread
            kwargs.setdefault("avoid", ("{v",))
        return self.writer.post(lang, path, author.style, sentiment, ctx, group=group,
                                used=thread.used if thread is not None else None, **kwargs)

    def starter(self, source: str, when: datetime, kind: str, touchpoint: str, brand: str,
                product: str, lang: str, author: Author | None = None) -> Post:
        author = author or self.customers(source, lang, at=when)
        sentiment = KIND_SENTIMENT[kind]
        path_kind = {"complaint": "negative", "question": "question", "praise": "positive"}[kind]
        cores = 1 if kind == "question" else self.rng.choice((1, 2, 2))
        phrases: set[str] = set()
        text = self.text(lang, ("touchpoints", touchpoint, path_kind), author, sentiment,
                         {"brand": brand, "product": product}, cores=cores)
        phrases.update(self.writer.last_used)
        return Post(source, author, when, lang, text, "starter-" + kind, sentiment, touchpoint,
                    brand, product, phrases=phrases, core=list(self.writer.last_core))

    def reply(self, thread: Thread, role: str, when: datetime, author: Author | None = None,
              lang: str | None = None) -> Post | None:
        """A reply of ``role`` in ``thread`` at ``when`` (``None`` if the role does not fit)."""
        rng, op = self.rng, thread.posts[0]
        source = thread.source
        if role in ("thanks", "followup"):
            author = op.author
        elif role == "staff":
            if thread.brand == "telenova":
                return None
            author = self.staff[source]
        author = author or self.customers(source, thread.lang, at=when,
                                          exclude=(thread.posts[-1].author,))
        lang = lang or (thread.lang if thread.lang in author.langs or rng.random() < 0.6
                        else author.lang)
        if author.role == "staff":
            lang = thread.lang
        ctx = {"brand": thread.brand, "product": thread.product}
        target = op
        quoted = None
        if role in ("agree", "answer", "counter", "counter_positive", "compare", "defend") \
                and rng.random() < 0.18:
            quoted = self.quote_for(thread, author, when)
            target = quoted or op
        ctx["to"] = ("@" if source == "community" else "") + target.author.handle
        tp, sentiment, labels = thread.touchpoint, "neutral", []
        prefix = ""
        if role == "agree":
            prefix = self.writer.fill(lang, self.writer.pick(lang, "replies", "agree").text, ctx)
            path, sentiment = ("touchpoints", tp, "negative"), "negative"
            text = self.text(lang, path, author, sentiment, ctx, thread, prefix=prefix,
                             cores=rng.choice((0, 1, 1)), extras=False)
        elif role == "agree_question":
            text = self.text(lang, ("touchpoints", tp, "question"), author, "neutral", ctx,
                             thread, extras=False)
        elif role == "agree_positive":
            prefix = self.writer.fill(lang, self.writer.pick(lang, "replies",
                                                             "agree_positive").text, ctx)
            text = self.text(lang, ("touchpoints", tp, "positive"), author, "positive", ctx,
                             thread, prefix=prefix, cores=rng.choice((0, 1)), extras=False)
            sentiment = "positive"
        elif role in ("counter", "counter_positive"):
            sentiment = "negative" if role == "counter" else "positive"
            text = self.text(lang, ("touchpoints", tp, sentiment), author, sentiment, ctx,
                             thread)
        elif role == "answer":
            address = f"{ctx['to']}, " if rng.random() < 0.3 else ""
            tail = self.writer.phrase(lang, "answer_tail", ctx=ctx) if rng.random() < 0.6 \
                else ""
            lead = self.writer.phrase(lang, "answer_lead", ctx=ctx) \
                if not tail or rng.random() < 0.4 else ""
            text = self.text(lang, ("touchpoints", tp, "answer"), author, "neutral", ctx,
                             thread, extras=False, after=tail, prefix=lead)
            text = address + (text[0].lower() + text[1:] if address else text)
        elif role in ("thanks", "followup", "banter", "staff", "compare"):
            if role in ("thanks", "followup") and not any(
                    p.role in ("answer", "staff") for p in thread.posts[1:]):
                return None
            if role in ("thanks", "followup") and any(p.role == "thanks" and p.author is author
                                                      for p in thread.posts):
                return None
            sentiment = {"thanks": "positive", "followup": "negative"}.get(role, "neutral")
            tp = None if role in ("banter", "compare") else tp
            if role == "compare" and thread.brand == "telenova":
                return None
            if role == "staff":
                text = self.staff_text(lang, ("replies", "staff"), ctx)
            else:
                text = self.writer.unique(lambda: self.writer.compose(
                    lang, [self.writer.phrase(lang, "replies", role, ctx=dict(ctx))],
                    author.style, sentiment, dict(ctx), extras=False))
        else:
            raise ValueError(role)
        post = Post(source, author, when, lang, text, role, sentiment, tp, thread.brand,
                    thread.product, labels=labels, reply_to=target)
        if quoted is not None:
            self.attach_quote(post, quoted)
        return post

    def background_thread(self, source: str, *, kind: str | None = None,
                          day: datetime | None = None, unanswered: bool = False) -> Thread:
        rng = self.rng
        kind = kind or rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
        touchpoint, brand, product = self.topic()
        lang = self.lang(f"threads-{source}")
        when = self.moment(day or self.some_day())
        post = self.starter(source, when, kind, touchpoint, brand, product, lang)
        thread = self.new_thread(source, post, kind=kind)
        thread.unanswered = unanswered
        if unanswered:
            post.labels.append("unanswered")
            return thread
        count = self.reply_count(kind)
        when = post.time
        for index in range(count):
            when = when + timedelta(minutes=rng.expovariate(1 / (150 + 60 * index)) + 3)
            if not self.inside(when):
                break
            roles = REPLY_ROLES[kind]
            role = "answer" if kind == "question" and index == 0 else rng.choices(
                list(roles), weights=list(roles.values()))[0]
            reply = self.reply(thread, role, when)
            if reply is not None:
                self.add_reply(thread, reply)
        return thread

    def staff_text(self, lang: str, path: tuple[str, ...], ctx: dict) -> str:
        """A support reply: maybe a greeting, the answer, maybe a closing, a signature."""
        writer, rng = self.writer, self.rng

        def make() -> str:
            local = dict(ctx)
            parts = [writer.phrase(lang, *path, ctx=local)]
            if rng.random() < 0.6 and "{to}" not in parts[0]:
                avoid = () if "to" in ctx else ("{to}",)
                opening = rng.choice(writer.options(lang, "staff_open", avoid=avoid))
                parts.insert(0, writer.fill(lang, opening.text, local))
            if rng.random() < 0.5:
                parts.append(writer.phrase(lang, "staff_close", ctx=local))
            return " ".join(parts) + f"\n\n{writer.pick(lang, 'staff_sign').text}"

        return writer.unique(make)

    def reply_count(self, kind: str) -> int:
        rng = self.rng
        if rng.random() < 0.07:
            return rng.randrange(12, 28)
        count = int(rng.expovariate(1 / {"complaint": 3.6, "question": 3.0, "praise": 2.2}[kind]))
        return min(max(count, 1 if kind == "question" else 0), 25)

    # -- reviews -----------------------------------------------------------------------------

    def review(self, when: datetime, *, product: str | None = None, touchpoint: str | None = None,
               sentiment: str | None = None, author: Author | None = None,
               text: str | None = None, lang: str | None = None) -> Post:
        rng = self.rng
        product = product or rng.choices(list(REVIEW_PRODUCTS),
                                         weights=list(REVIEW_PRODUCTS.values()))[0]
        brand, group = product.split("-", 1)
        if touchpoint is None:
            fitting = [tp for tp, groups in TOUCHPOINT_GROUPS.items() if group in groups]
            touchpoint = rng.choices(fitting, weights=[TOUCHPOINT_WEIGHTS[tp] for tp in fitting])[0]
        sentiment = sentiment or rng.choices(("negative", "positive", "neutral"),
                                             weights=(45, 35, 20))[0]
        author = author or self.customers("reviews", lang)
        lang = lang or author.lang
        ctx = {"brand": brand, "product": product}
        writer = Author(author.handle, "reviews", author.langs,
                        Style(**{**author.style.__dict__, "opener": 0.0}))
        if text is None:
            if sentiment == "neutral":
                good = self.writer.phrase(lang, "touchpoints", touchpoint, "positive", ctx=ctx,
                                          group=group)
                other = rng.choice([tp for tp, g in TOUCHPOINT_GROUPS.items() if group in g
                                    and tp not in ("churn", "after-leaving", "awareness")])
                text = self.text(lang, ("touchpoints", other, "negative"), writer, "neutral", ctx,
                                 prefix=good, avoid=("?",))
            else:
                text = self.text(lang, ("touchpoints", touchpoint, sentiment), writer, sentiment,
                                 ctx, cores=rng.choice((1, 2)))
        rating = {"negative": rng.choice((1, 1, 1, 2, 2)), "positive": rng.choice((4, 5, 5)),
                  "neutral": 3}[sentiment]
        title = self.writer.pick(lang, "review_titles", sentiment).text if rng.random() < 0.85 \
            else None
        post = Post("reviews", author, when, lang, text, "review", sentiment, touchpoint, brand,
                    product, title=title, rating=rating, place=product)
        self.posts.append(post)
        return post

    # -- all of it ---------------------------------------------------------------------------

    def build(self) -> Story:
        rng = self.rng
        self.make_people()
        self.choose_switchers()
        for source, count in BACKGROUND_THREADS.items():
            for _ in range(count):
                self.background_thread(source)
        for _ in range(BACKGROUND_REVIEWS):
            self.review(self.moment(self.some_day()))
        self.incident()
        self.billing()
        for story in self.switchers:
            if "failed" not in story:
                self.switcher_failure(story, self.moment(story["at"]))
        self.unanswered()
        self.advocacy()
        self.spam()
        self.channels()
        self.articles()
        self.edits()
        self.threads.sort(key=lambda t: t.start)
        self.posts.sort(key=lambda p: p.time)
        _ = rng
        return self

    def edits(self) -> None:
        rng = self.rng
        for post in self.every_post():
            if post.source in ("forum", "community") and post.role not in ("spam", "staff") \
                    and rng.random() < 0.04:
                post.edited = post.time + timedelta(minutes=rng.randrange(2, 300))

    def every_post(self) -> list[Post]:
        """All posts: thread posts and the rest, in time order."""
        posts = [p for t in self.threads for p in t.posts] + self.posts
        return sorted(posts, key=lambda p: p.time)

    def counts(self) -> dict:
        posts = self.every_post()
        return {"posts": len(posts), "by_source": Counter(p.source for p in posts),
                "by_lang": Counter(p.lang for p in posts)}


def write_story(seed: int, end: date) -> Story:
    """The community for a seed and an end date (the day after the last post)."""
    return Story(seed, end).build()


__all__ = ["LANGS", "WINDOW_DAYS", "Author", "Calendar", "Post", "Story", "Thread",
           "write_story"]
