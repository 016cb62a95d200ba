"""Incidents from alerts on synthetic mentions: is each planted event one incident, with its
touchpoint first, and do two events of one week stay two?

    nice -n 10 .venv/bin/python bench/incidents.py [--series 40] [--seed 1]

Each series is 70 days of one brand's posts (100 a day, 40 % negative, with the daily and
weekly cycles of ``bench/spikes.py``), spread over three products and seven touchpoints (network
30 %, billing 20 %, support 15 %, digital 15 %, onboarding 8 %, delivery 7 %, purchase 5 %;
a third of posts name a second touchpoint). From day 42 one event is planted on a random
touchpoint and product: a jump of 6-24 h or a slow build over 2-3 days (the shapes of
``bench/spikes.py``), 50-120 posts, each naming the event's touchpoint, half of them also
digital, a third support and a fifth network (the "app", "called support", "no signal" of a
real complaint), so the broad slices fire too; its own words in every post. In every other
series a second event on another touchpoint starts within a day of the first.

An incident is about the planted event it holds most posts of (5 at least). Scored: events
found (some incident is about them), exactly one incident about each found event, the event's
touchpoint first in it (and, to compare, first when ranked by posts alone), events merged
with the other event of their week (one incident holds the alerts of both events'
touchpoints), incidents about no event (per 30 days: the detector's false alarms, grouped),
and alerts per found event (what one incident replaces).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from insights.alerts import find_alerts  # noqa: E402
from insights.incidents import AlertSlice, describe_incident, group_alerts  # noqa: E402
from insights.mention_facts import BrandMention  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAYS = 70
PER_DAY = 100.0
NEGATIVE = 0.4
PRODUCTS = {"mobile": 0.5, "app": 0.2, "home": 0.3}
TOUCHPOINTS = {"network": 0.30, "billing": 0.20, "support": 0.15, "digital": 0.15,
               "onboarding": 0.08, "delivery": 0.07, "purchase": 0.05}
CO_MENTIONS = {"digital": 0.5, "support": 0.33, "network": 0.2}
LETTERS = list("абвгдежзиклмнопрстуфхцчшэюя")
HOURS = np.arange(24)
DAILY = 0.25 + np.exp(-(((HOURS - 13) / 4.5) ** 2)) + 0.7 * np.exp(-(((HOURS - 20) / 2) ** 2))
DAILY = DAILY / DAILY.mean()
WEEKLY = np.array([1.1, 1.05, 1.0, 1.0, 1.0, 0.6, 0.55])
WEEKLY = WEEKLY / WEEKLY.mean()
WORDS = ["тариф", "интернет", "связь", "деньги", "оператор", "приложение", "скорость", "роутер",
         "звонок", "сообщение", "абонент", "номер", "пакет", "минуты", "смс", "договор", "офис",
         "магазин", "доставка", "курьер"]


def series(rng: np.random.Generator, index: int, second: bool):
    """One brand's posts and the planted events ``[(touchpoint, post ids)]``."""
    posts: list[BrandMention] = []
    hour = np.arange(DAYS * 24)
    rate = PER_DAY / 24 * DAILY[hour % 24] * WEEKLY[(hour // 24) % 7]
    rate = rate * rng.gamma(20, 1 / 20, DAYS).repeat(24)
    for h, n in enumerate(rng.poisson(rate)):
        for _ in range(n):
            touchpoints = {_pick(rng, TOUCHPOINTS)}
            if rng.random() < 1 / 3:
                touchpoints.add(_pick(rng, TOUCHPOINTS))
            words = " ".join(rng.choice(WORDS, 6))
            stance = "negative" if rng.random() < NEGATIVE else "neutral"
            posts.append(_post(index, len(posts), h, rng, _pick(rng, PRODUCTS), touchpoints,
                               f"Волна опять {words}", stance))
    events = []
    first = int(rng.integers(42, DAYS - 5) * 24 + rng.integers(6, 18))
    chosen = rng.choice([t for t in TOUCHPOINTS if t not in CO_MENTIONS], 2, replace=False)
    for k, touchpoint in enumerate(chosen[: 1 + second]):
        start = first + (int(rng.integers(0, 24)) if k else 0)
        events.append((str(touchpoint), _plant(rng, index, posts, start, str(touchpoint), k)))
    return posts, events


def _plant(rng, index, posts, start, touchpoint, k) -> set[str]:
    """An event's posts: a jump or a slow build on one touchpoint and product."""
    size = int(rng.integers(50, 121))
    if rng.random() < 0.5:
        hours = start + rng.integers(0, int(rng.integers(6, 25)), size)
    else:
        length = int(rng.integers(48, 73))
        hours = start + (length * np.sqrt(rng.random(size))).astype(int)
    product = _pick(rng, PRODUCTS)
    own = ["".join(rng.choice(LETTERS, 7)) for _ in range(3)]  # the event's own words
    ids = set()
    for h in sorted(hours.tolist()):
        touchpoints = {touchpoint} | {t for t, p in CO_MENTIONS.items() if rng.random() < p}
        words = " ".join(rng.choice(WORDS, 3))
        post = _post(index, len(posts), h, rng, product, touchpoints,
                     f"Волна {' '.join(own)} {words}")
        posts.append(post)
        ids.add(post.mention_id)
    return ids


def _post(index, n, hour, rng, product, touchpoints, text, stance="negative") -> BrandMention:
    when = START + timedelta(hours=int(hour), minutes=int(rng.integers(0, 60)))
    return BrandMention(
        f"s{index}-{n}", f"a{n % 5000}", "forum", f"t{n}", when.isoformat(), "volna", product,
        stance, stance, tuple((t, stance) for t in sorted(touchpoints)), (), None,
        int(rng.integers(0, 5)), 0, 0, False, False, f"https://f.example/{index}/{n}", text)


def _pick(rng, shares: dict) -> str:
    return str(rng.choice(list(shares), p=np.array(list(shares.values()))
                          / sum(shares.values())))


def incidents_of(posts: list[BrandMention], now: datetime) -> tuple[list[dict], int]:
    """The incidents ``otklik analyze`` would store, and how many alerts they came from."""
    alerts = find_alerts(posts, {"volna"}, now, ["Волна"])
    slices = [AlertSlice(i, a["brand"], a["product"], a["touchpoint"],
                         datetime.fromisoformat(a["started_at"]),
                         datetime.fromisoformat(a["last_seen_at"]), a["details"]["period"],
                         a["details"]["observed"], a["baseline"], a["ongoing"],
                         frozenset(a["mention_ids"]), tuple(t["term"] for t in a["terms"]))
              for i, a in enumerate(alerts)]
    by_id = {m.mention_id: m for m in posts}
    found = []
    for group in group_alerts(slices):
        incident = describe_incident(group, by_id, posts, ["Волна"])
        incident["keys"] = {a.key for a in group}
        specific = [a for a in group if a.touchpoint] or group
        incident["post_ids"] = frozenset().union(*(a.posts for a in specific))
        found.append(incident)
    return found, len(alerts)


def run(series_count: int, seed: int) -> Counter:
    score: Counter = Counter()
    now = START + timedelta(days=DAYS)
    for index in range(series_count):
        rng = np.random.default_rng([seed, index])
        posts, events = series(rng, index, second=index % 2 == 1)
        incidents, _ = incidents_of(posts, now)
        # each incident is about the event it holds most posts of (5 at least), if any
        about = {}
        for i, incident in enumerate(incidents):
            held = [len(incident["post_ids"] & ids) for _, ids in events]
            if max(held) >= 5:
                about[i] = held.index(max(held))
        for k, (touchpoint, _) in enumerate(events):
            mine = [i for i, event in about.items() if event == k]
            score["events"] += 1
            score["found"] += bool(mine)
            if len(mine) == 1:
                incident = incidents[mine[0]]
                score["exactly_one"] += 1
                score["alerts"] += len(incident["alert_ids"])
                score["right_first"] += incident["touchpoints"][0]["touchpoint"] == touchpoint
                most = max(incident["touchpoints"], key=lambda t: t["posts"])
                score["most_posts_first"] += most["touchpoint"] == touchpoint
                score["merged"] += any(f"volna/*/{other}" in incident["keys"]
                                       for other, _ in events if other != touchpoint)
        score["false"] += len(incidents) - len(about)
        score["days"] += DAYS - 14
    return score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    s = run(args.series, args.seed)
    found = max(s["found"], 1)
    print(f"{args.series} series, {s['events']} planted events (seed {args.seed}), "
          f"{time.monotonic() - started:.0f} s")
    print(f"found: {s['found']}/{s['events']} ({s['found'] / s['events']:.2f})")
    print(f"exactly one incident per found event: {s['exactly_one']}/{s['found']} "
          f"({s['exactly_one'] / found:.2f})")
    print(f"event's touchpoint first: {s['right_first']}/{s['exactly_one']} "
          f"({s['right_first'] / max(s['exactly_one'], 1):.2f})")
    print(f"  (ranked by posts alone instead: {s['most_posts_first']}/{s['exactly_one']})")
    print(f"merged with the other event of its week: {s['merged']}")
    print(f"alerts per event (grouped into its one incident): "
          f"{s['alerts'] / max(s['exactly_one'], 1):.1f}")
    print(f"incidents about no planted event: {s['false']} "
          f"({30 * s['false'] / s['days']:.2f} per 30 days)")


if __name__ == "__main__":
    main()
