"""The planted stories of the demo community, the facts ``answers.json`` records.

A mixin of :class:`demo.generate_story.Story`: the eSIM launch incident (onboarding
complaints growing four days, then fading), the double-charge weekend (billing), switchers
who leave for Telenova after a failure, advocates who recommend and defend Volna, a
spammer's near-identical promotions, questions nobody answers, and the channel posts and
news articles about all of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from demo.generate_model import WINDOW_DAYS, Author, Post, Thread, day_words
from demo.generate_text import PLAIN, Style, lexicon, news, random_style

INCIDENT_DAILY = (1, 4, 9, 16, 22, 15, 10, 6, 4, 2, 1)
BILLING_SPIKE = {0: 5, 1: 11, 2: 10}  # Friday evening, Saturday, Sunday
ADVOCATES = (("forum", "GeekOleg", "ru"), ("forum", "Андрій_Київ", "uk"),
             ("forum", "svetlana_od", "ru"), ("community", "kate_travels", "en"),
             ("community", "olena.m", "uk"))
SPAMMER = ("forum", "sim_promo24")
SWITCHERS = (("forum", "onboarding", "launch", 2), ("forum", "onboarding", "launch", 3),
             ("community", "billing", "billing", 0.9), ("forum", "billing", "billing", 1.5),
             ("forum", "support", "start", 20), ("community", "network", "start", 33),
             ("forum", "delivery", "start", 55), ("reviews", "product-quality", "start", 80))
UNANSWERED = {"forum": 8, "community": 4}


class PlantedStories:
    """Methods of :class:`~demo.generate_story.Story` that plant the answer file's facts."""

    def planted_text(self, lang: str, key: str, author: Author, sentiment: str, ctx: dict,
                     **kwargs) -> str:
        """A planted phrase: no typos in its core and no lower-casing, so its cue words and
        the brand stay readable. Incident and billing posts get a sentence or two more."""
        style = Style(**{**author.style.__dict__, "lower": False})
        extra = {"incident": "incident_extra", "billing": "billing_extra",
                 "billing_charge": "billing_extra"}.get(key)
        if extra and "after" not in kwargs:
            count = self.rng.choice((1, 1, 2))
            options = lexicon(lang)["planted"][extra]
            kwargs["after"] = " ".join(self.writer.fill(lang, t.text, dict(ctx))
                                       for t in self.rng.sample(options, count))
        return self.writer.post(lang, ("planted", key), style, sentiment, ctx, rough=False,
                                **kwargs)

    def incident(self) -> None:
        """The eSIM launch: onboarding complaints growing for four days, then fading."""
        rng, cal = self.rng, self.cal
        megas: dict[str, Thread] = {}
        fresh: list[Thread] = []
        ctx = {"brand": "volna", "product": "volna-mobile"}
        switchers = [s for s in self.switchers if s["touchpoint"] == "onboarding"]
        for offset, count in enumerate(INCIDENT_DAILY):
            day = cal.launch + timedelta(days=offset)
            times = sorted(self.moment(day, after=cal.launch + timedelta(hours=10))
                           for _ in range(count))
            for when in times:
                switcher = next((s for s in switchers if "failed" not in s
                                 and cal.index(s["at"]) == cal.index(when)), None)
                if switcher is not None:
                    self.switcher_failure(switcher, when)
                    continue
                where = rng.choices(("forum-mega", "community-mega", "forum", "community",
                                     "reviews", "other"),
                                    weights=(32, 18, 14, 8, 18, 10))[0]
                if where == "other" and not fresh:
                    where = "forum"
                source = "reviews" if where == "reviews" else where.split("-")[0]
                if where == "other":
                    thread = rng.choice(fresh[-4:])
                    source = thread.source
                lang = self.lang()
                author = self.customers(source, lang, at=when)
                lang = lang if lang in author.langs else author.lang
                product = rng.choice(("volna-mobile", "volna-mobile", "volna-app"))
                ctx = {"brand": "volna", "product": product}
                early = ("трет", "third") if offset < 2 else ()
                text = self.planted_text(lang, "incident", author, "negative", ctx, avoid=early)
                post = Post(source, author, when, lang, text, "incident", "negative",
                            "onboarding", "volna", product, labels=["incident"],
                            core=list(self.writer.last_core))
                if source == "reviews":
                    self.review(when, product=product, touchpoint="onboarding",
                                sentiment="negative", author=author, text=text, lang=lang)
                    self.posts[-1].labels.append("incident")
                    self.posts[-1].role = "incident"
                    continue
                if where.endswith("mega"):
                    if source not in megas:
                        title = lexicon(lang)["planted"]["incident_title"][0].text
                        megas[source] = self.new_thread(source, post, title=title,
                                                        place="mobile" if source == "forum"
                                                        else "app")
                        megas[source].planted = "incident"
                        continue
                    thread = megas[source]
                    if rng.random() < 0.2:
                        self.attach_quote(post, rng.choice(thread.posts[-4:]))
                elif where in ("forum", "community"):
                    titles = lexicon(lang)["planted"]["incident_title"]
                    title = rng.choice(titles).text if rng.random() < 0.4 else None
                    thread = self.new_thread(source, post, title=title,
                                             place="mobile" if source == "forum" else "app")
                    thread.planted = "incident"
                    fresh.append(thread)
                    continue
                self.add_reply(thread, post)
        # help in the incident threads: staff, advocates, neighbours (not complaints)
        for thread in [*megas.values(), *fresh]:
            helpers = max(1, len(thread.posts) // 5)
            for _ in range(helpers):
                after = rng.choice(thread.posts)
                when = after.time + timedelta(minutes=rng.randrange(15, 400))
                if not self.inside(when):
                    continue
                kind = rng.choice(("staff", "answer", "answer"))
                advocate = [a for a in self.advocates if a.source == thread.source]
                author = self.staff[thread.source] if kind == "staff" else (
                    rng.choice(advocate) if advocate and rng.random() < 0.5
                    else self.customers(thread.source, thread.lang, at=when))
                lang = thread.lang if kind == "staff" else author.lang
                ctx = {"to": ("@" if thread.source == "community" else "") + after.author.handle}
                if kind == "staff":
                    text = self.staff_text(lang, ("planted", "incident_staff"), ctx)
                else:
                    text = self.planted_text(lang, "incident_answer", author, "neutral", ctx,
                                             extras=False)
                reply = Post(thread.source, author, when, lang, text,
                             "staff" if kind == "staff" else "answer", "neutral", "onboarding",
                             "volna", thread.product, reply_to=after, labels=["incident-help"])
                self.add_reply(thread, reply)

    def billing(self) -> None:
        """The double charge: a few posts on the day, a spike two weeks later, the refund."""
        rng, cal = self.rng, self.cal
        megas: dict[str, Thread] = {}
        ctx = {"brand": "volna", "product": "volna-mobile"}
        for index in range(6):
            source = ("forum", "community")[index % 2] if index < 4 else rng.choice(
                ("forum", "community"))
            when = self.moment(cal.charge, after=cal.charge) + timedelta(
                hours=rng.randrange(0, 10))
            lang = "ru" if index < 2 else self.lang()
            author = self.customers(source, lang, at=when)
            lang = lang if lang in author.langs else author.lang
            text = self.planted_text(lang, "billing_charge", author, "negative", ctx)
            post = Post(source, author, when, lang, text, "billing-charge", "negative",
                        "billing", "volna", "volna-mobile", labels=["billing-charge"],
                        core=list(self.writer.last_core))
            if source not in megas:
                title = lexicon(lang)["planted"]["billing_title"][0].text
                megas[source] = self.new_thread(source, post, title=title, place=(
                    "billing" if source == "forum" else "tariffs"))
                megas[source].planted = "billing"
            else:
                self.add_reply(megas[source], post)
        for source, thread in megas.items():
            staff = self.staff[source]
            when = thread.start + timedelta(hours=rng.randrange(2, 6))
            self.add_reply(thread, Post(
                source, staff, when, thread.lang, self.staff_text(
                    thread.lang, ("replies", "staff"), {"to": thread.posts[0].author.handle}),
                "staff", "neutral", "billing", "volna", "volna-mobile",
                labels=["billing-help"]))
        switchers = [s for s in self.switchers if s["touchpoint"] == "billing"]
        for offset, count in BILLING_SPIKE.items():
            day = cal.billing.replace(hour=0) + timedelta(days=offset)
            times = sorted(self.moment(day, after=cal.billing if offset == 0 else None)
                           for _ in range(count))
            for when in times:
                switcher = next((s for s in switchers if "failed" not in s
                                 and when >= s["at"]), None)
                if switcher is not None:
                    self.switcher_failure(switcher, when)
                    continue
                where = rng.choices(("forum-mega", "community-mega", "forum", "community",
                                     "reviews"), weights=(40, 18, 12, 8, 22))[0]
                source = "reviews" if where == "reviews" else where.split("-")[0]
                lang = self.lang()
                author = self.customers(source, lang, at=when)
                lang = lang if lang in author.langs else author.lang
                text = self.planted_text(lang, "billing", author, "negative", ctx)
                if source == "reviews":
                    self.review(when, product="volna-mobile", touchpoint="billing",
                                sentiment="negative", author=author, text=text, lang=lang)
                    self.posts[-1].labels.append("billing")
                    self.posts[-1].role = "billing"
                    continue
                post = Post(source, author, when, lang, text, "billing", "negative", "billing",
                            "volna", "volna-mobile", labels=["billing"],
                            core=list(self.writer.last_core))
                if where.endswith("mega"):
                    if rng.random() < 0.25:
                        self.attach_quote(post, rng.choice(megas[source].posts[-4:]))
                    self.add_reply(megas[source], post)
                else:
                    titles = lexicon(lang)["planted"]["billing_title"]
                    title = titles[1].text if rng.random() < 0.5 else None
                    self.new_thread(source, post, title=title, place=(
                        "billing" if source == "forum" else "tariffs")).planted = "billing"
        for source, thread in megas.items():
            staff = self.staff[source]
            when = cal.billing + timedelta(hours=rng.randrange(17, 24))
            text = self.staff_text(thread.lang, ("planted", "billing_staff"), {})
            self.add_reply(thread, Post(source, staff, when, thread.lang, text, "staff",
                                        "neutral", "billing", "volna", "volna-mobile",
                                        labels=["billing-help"]))
            for _ in range(2):
                when = self.moment(cal.refund, after=cal.refund)
                author = self.customers(source, thread.lang, at=when)
                lang = thread.lang if thread.lang in author.langs else author.lang
                text = self.planted_text(lang, "refund_paid", author, "neutral", ctx)
                self.add_reply(thread, Post(source, author, when, lang, text, "refund-paid",
                                            "neutral", "billing", "volna", "volna-mobile",
                                            labels=["refund-paid"]))

    def choose_switchers(self) -> None:
        """Pick the customers who will leave for Telenova, and when they fail."""
        rng, cal = self.rng, self.cal
        for source, touchpoint, anchor, days in SWITCHERS:
            at = cal.anchor(anchor) + timedelta(days=days)
            pool = [a for a in self.authors if a.source == source and a.role == "customer"
                    and not a.guest]
            author = rng.choice(pool)
            author.role = "switcher"
            author.style = random_style(rng, careful=True)
            self.switchers.append({"author": author, "source": source,
                                   "touchpoint": touchpoint, "at": at})

    def switcher_failure(self, story: dict, when: datetime) -> None:
        """A switcher's complaint (a new thread, or a review), then the switch days later."""
        rng = self.rng
        author, source, touchpoint = story["author"], story["source"], story["touchpoint"]
        lang = author.lang
        story["failed"] = when
        if touchpoint == "onboarding":
            key, labels, product = "incident", ["incident"], "volna-mobile"
        elif touchpoint == "billing" and when >= self.cal.billing:
            key, labels, product = "billing", ["billing"], "volna-mobile"
        else:
            key, labels = None, []
            product = {"network": "volna-mobile", "delivery": "volna-home",
                       "product-quality": "volna-home"}.get(touchpoint, "volna-mobile")
        ctx = {"brand": "volna", "product": product}
        if key:
            text = self.planted_text(lang, key, author, "negative", ctx)
        else:
            text = self.text(lang, ("touchpoints", touchpoint, "negative"), author, "negative",
                             ctx, cores=2)
        core = list(self.writer.last_core)
        switch_at = when + timedelta(days=rng.uniform(1.5, 4), hours=rng.randrange(0, 6))
        switch_ctx = {"brand": "volna", "product": product,
                      "failure": lexicon(lang)["planted"]["failure"][touchpoint]}
        turns = self.switch_phrases.setdefault(lang, set())
        switch = self.planted_text(lang, "switch", author, "negative", switch_ctx,
                                   extras=False, used=turns)  # each phrasing in turn
        story["switched"] = switch_at
        if source == "reviews":
            full = f"{text}\n\n{switch}"
            post = self.review(switch_at, product=product, touchpoint=touchpoint,
                               sentiment="negative", author=author, text=full, lang=lang)
            post.labels.append("switch")
            post.rating = 1
            story["post"] = post
            return
        post = Post(source, author, when, lang, text, key or "starter-complaint", "negative",
                    touchpoint, "volna", product, labels=list(labels), core=core)
        thread = self.new_thread(source, post)
        if key:
            thread.planted = key
        moment = when
        for role in rng.sample(("agree", "staff", "agree", "banter"), rng.randrange(1, 4)):
            moment += timedelta(hours=rng.uniform(0.5, 12))
            reply = self.reply(thread, role, moment)
            if reply is not None:
                self.add_reply(thread, reply)
        announce = Post(source, author, switch_at, lang, switch, "switch", "negative", "churn",
                        "volna", product, labels=["switch"], core=[switch])
        if rng.random() < 0.5:
            self.add_reply(thread, announce)
        else:
            self.new_thread(source, announce, place="rivals" if source == "forum" else "tariffs")
            for role in ("banter", "defend")[: rng.randrange(0, 3)]:
                if role == "defend":
                    helper = next((a for a in self.advocates if a.source == source), None)
                    if helper is None:
                        continue
                    self.advocate_reply(helper, announce.thread, "defend",
                                        switch_at + timedelta(hours=rng.uniform(1, 20)))
                else:
                    reply = self.reply(announce.thread, "banter",
                                       switch_at + timedelta(hours=rng.uniform(1, 20)))
                    if reply is not None:
                        self.add_reply(announce.thread, reply)
        author.active_until = switch_at
        story["post"] = announce

    def advocate_reply(self, author: Author, thread: Thread, role: str, when: datetime) -> None:
        rng = self.rng
        lang = author.lang
        target = thread.posts[0]
        ctx = {"brand": "volna", "product": thread.product if thread.brand == "volna"
               else "volna-mobile",
               "to": ("@" if thread.source == "community" else "") + target.author.handle}
        if role == "answer" and thread.touchpoint:
            text = self.text(lang, ("touchpoints", thread.touchpoint, "answer"), author,
                             "positive", ctx, extras=False)
            tp, sentiment = thread.touchpoint, "neutral"
        else:
            text = self.writer.post(lang, ("replies", role), author.style, "positive", ctx,
                                    rough=False, extras=role == "recommend")
            tp, sentiment = ("awareness" if role == "recommend" else thread.touchpoint), "positive"
        post = Post(thread.source, author, when, lang, text, role, sentiment, tp, "volna",
                    ctx["product"], reply_to=target, labels=["advocate"])
        if rng.random() < 0.15:
            quoted = self.quote_for(thread, author, when)
            if quoted is not None:
                self.attach_quote(post, quoted)
        self.add_reply(thread, post)

    def advocacy(self) -> None:
        """Each advocate, every few days for three months: recommendations (in threads and
        two of their own), defences in complaint threads and answers to questions."""
        rng, cal = self.rng, self.cal
        for author in self.advocates:
            plan = ["recommend"] * 4 + ["defend"] * 4 + ["answer"] * 5 + ["own"] * 2
            rng.shuffle(plan)
            span = (cal.stop - cal.start - timedelta(days=6)) / len(plan)
            for index, role in enumerate(plan):
                when = cal.start + timedelta(days=3) + span * index + span * rng.uniform(0, 0.8)
                if role != "own" and self.advocate_in_thread(author, role, when):
                    continue
                if role in ("own", "recommend"):
                    self.advocate_thread(author, when)

    def advocate_in_thread(self, author: Author, role: str, when: datetime) -> bool:
        """Reply as an advocate in a fitting thread started a few days before ``when``."""
        rng = self.rng
        wanted = {"answer": ("question",), "defend": ("complaint",),
                  "recommend": ("praise", "question")}[role]
        for days in (4, 10):
            candidates = [t for t in self.threads if t.source == author.source
                          and not t.unanswered and t.kind in wanted and t.brand == "volna"
                          and when - timedelta(days=days) < t.start < when]
            speaking = [t for t in candidates if t.lang == author.lang]
            pool = speaking if speaking and rng.random() < 0.7 else candidates
            if pool:
                self.advocate_reply(author, rng.choice(pool), role, when)
                return True
        return False

    def advocate_thread(self, author: Author, when: datetime) -> None:
        """An advocate's own thread recommending Volna, with a few replies."""
        rng = self.rng
        ctx = {"brand": "volna", "product": rng.choice(("volna-mobile", "volna-home"))}
        text = self.writer.post(author.lang, ("replies", "recommend"), author.style, "positive",
                                ctx, rough=False, cores=2)
        post = Post(author.source, author, self.moment(when), author.lang, text, "recommend",
                    "positive", "awareness", "volna", ctx["product"], labels=["advocate"],
                    core=list(self.writer.last_core))
        thread = self.new_thread(author.source, post, kind="praise",
                                 place="mobile" if author.source == "forum" else "tariffs")
        for _ in range(rng.randrange(1, 4)):
            reply = self.reply(thread, rng.choice(("agree_positive", "banter", "counter")),
                               post.time + timedelta(hours=rng.uniform(1, 30)))
            if reply is not None and self.inside(reply.time):
                self.add_reply(thread, reply)

    def spam(self) -> None:
        """Three bursts of near-identical promotions with links."""
        rng, author = self.rng, self.spammer
        for day in (15, 47, 78):
            when = self.moment(self.cal.day(day))
            for index in range(6):
                when += timedelta(minutes=rng.randrange(2, 9), seconds=rng.randrange(60))
                ref = "".join(rng.choice("abcdefghkmnpqrstuvwxyz23456789") for _ in range(6))
                text = self.writer.unique(lambda ref=ref: self.writer.fill(
                    "ru", rng.choice(lexicon("ru")["planted"]["spam"]).text, {"ref": ref}),
                    near=False)
                post = Post("forum", author, when, "ru", text, "spam", "positive", "awareness",
                            "volna", "volna-mobile", labels=["spam"])
                if index == 0:
                    self.new_thread("forum", post, place=rng.choice(
                        ("mobile", "home", "rivals")), kind="praise")
                    continue
                recent = sorted((t for t in self.threads if t.source == "forum"
                                 and not t.unanswered and t.start < when),
                                key=lambda t: t.last)[-8:]
                self.add_reply(rng.choice(recent), post)

    def unanswered(self) -> None:
        rng = self.rng
        for source, count in UNANSWERED.items():
            days = sorted(rng.sample(range(4, WINDOW_DAYS - 3), count))
            for day in days:
                self.background_thread(source, kind="question", day=self.cal.day(day),
                                       unanswered=True)

    # -- channels and news -------------------------------------------------------------------

    def channels(self) -> None:

        rng, cal = self.rng, self.cal
        for name, spec in news()["channels"].items():
            author = self.add_author("telegram", tuple(spec["langs"]), handle=name,
                                     role="channel", style=PLAIN)
            when = cal.start + timedelta(days=rng.uniform(0, 2))
            moments = []
            while True:
                when += timedelta(days=rng.uniform(0.5, 1.5) * spec["every_days"])
                if when >= cal.stop:
                    break
                moments.append(when.replace(hour=rng.randrange(8, 20), minute=rng.randrange(60)))
            for when in moments:
                lang = rng.choices(list(spec["langs"]), weights=list(spec["langs"].values()))[0]
                ahead = rng.randint(*spec["date_ahead"])
                ctx = self.date_slots(lang, when + timedelta(days=ahead))
                phrases = spec["regular"][lang]
                text = self.writer.unique(lambda lang=lang, ctx=ctx, phrases=phrases:
                                          self.writer.fill(lang, rng.choice(phrases), dict(ctx)))
                self.posts.append(Post("telegram", author, when, lang, text, "channel",
                                       "neutral", None, "volna", None, place=name))
            for item in spec["planted"]:
                when = cal.anchor(item["anchor"]) + timedelta(hours=item["hours"])
                ctx = self.date_slots(item["lang"], when)
                text = self.writer.unique(lambda item=item, ctx=ctx: self.writer.fill(
                    item["lang"], item["text"], dict(ctx)))
                tp = "billing" if item["anchor"] in ("charge", "billing", "refund") \
                    else "onboarding"
                self.posts.append(Post("telegram", author, when, item["lang"], text, "channel",
                                       "neutral", tp, "volna", None, place=name,
                                       labels=["official"]))

    def date_slots(self, lang: str, when: datetime) -> dict:
        return {"date": day_words(lang, when), "launch_date": day_words(lang, self.cal.launch),
                "charge_date": day_words(lang, self.cal.charge),
                "refund_date": day_words(lang, self.cal.refund)}

    def articles(self) -> None:

        cal = self.cal
        for item in news()["articles"]:
            if "anchor" in item:
                when = cal.anchor(item["anchor"]) + timedelta(hours=item["hours"])
            else:
                when = cal.start + timedelta(days=WINDOW_DAYS * item["at"], hours=10)
            author = Author(item["author"], "news", (item["lang"],), PLAIN, role="journalist")
            if not any(a.handle == author.handle and a.source == "news" for a in self.authors):
                self.authors.append(author)
            ctx = self.date_slots(item["lang"], when)
            paragraphs = [self.writer.fill(item["lang"], p, dict(ctx)) for p in item["paragraphs"]]
            tp = {"charge": "billing", "billing": "billing", "refund": "billing",
                  "launch": "onboarding", "incident": "onboarding", "incident-en": "onboarding",
                  "tv": "product-quality", "metro": "network", "tariffs": "purchase",
                  "telenova-fiber": "purchase"}[item["key"]]
            post = Post("news", author, when, item["lang"], "\n\n".join(paragraphs), "article",
                        "neutral", tp, "telenova" if "telenova" in item["key"] else "volna",
                        None, title=item["title"], place=item["slug"])
            post.labels.append(f"article:{item['key']}")
            self.posts.append(post)
