"""The demo community's data model: people, posts, threads and the story calendar.

Source-neutral: ``demo/generate.py`` turns these into each source's data files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from demo.generate_text import Style, sentences

WINDOW_DAYS = 91


@dataclass(eq=False)
class Author:
    """A person (or channel, or newsroom) posting on one source."""

    handle: str
    source: str
    langs: tuple[str, ...]
    style: Style
    role: str = "customer"
    name: str | None = None
    city: str | None = None
    guest: bool = False
    active_until: datetime | None = None

    @property
    def lang(self) -> str:
        return self.langs[0]


@dataclass(eq=False)
class Post:
    """One post, review, article or channel message, with its ground truth."""

    source: str
    author: Author
    time: datetime
    lang: str
    text: str
    role: str
    sentiment: str
    touchpoint: str | None
    brand: str | None = "volna"
    product: str | None = None
    thread: Thread | None = None
    quote: Post | None = None
    quote_text: str = ""
    reply_to: Post | None = None
    title: str | None = None
    rating: int | None = None
    place: str | None = None
    labels: list[str] = field(default_factory=list)
    edited: datetime | None = None
    phrases: set[str] = field(default_factory=set, repr=False)  # templates it was made of
    core: list[str] = field(default_factory=list, repr=False)  # those filled, before habits


@dataclass(eq=False)
class Thread:
    """A forum topic or community thread; ``posts`` in time order."""

    source: str
    place: str
    lang: str
    title: str
    kind: str
    touchpoint: str | None
    brand: str
    product: str | None
    posts: list[Post] = field(default_factory=list)
    unanswered: bool = False
    planted: str | None = None
    used: set[str] = field(default_factory=set)  # phrases already written here

    @property
    def start(self) -> datetime:
        return self.posts[0].time

    @property
    def last(self) -> datetime:
        return self.posts[-1].time


@dataclass
class Calendar:
    """The three months before ``end`` and the planted days in them (UTC)."""

    end: date

    def __post_init__(self):
        self.stop = datetime.combine(self.end, time(), UTC)
        self.start = self.stop - timedelta(days=WINDOW_DAYS)
        launch = self.stop - timedelta(days=21)
        self.launch = launch - timedelta(days=(launch.weekday() - 1) % 7)  # a Tuesday
        friday = self.stop - timedelta(days=49)
        friday -= timedelta(days=(friday.weekday() - 4) % 7)
        self.billing = friday + timedelta(hours=18)  # Friday 18:00 → Sunday 23:59
        self.billing_end = friday + timedelta(days=3) - timedelta(seconds=1)
        self.charge = friday - timedelta(days=11) + timedelta(hours=7)  # the Monday before last
        self.refund = friday + timedelta(days=3, hours=9)  # Monday: 14 days after the charge

    def anchor(self, name: str) -> datetime:
        """The midnight of a planted day: start, launch, charge, billing (the Friday), refund."""
        moment = {"start": self.start, "launch": self.launch, "charge": self.charge,
                  "billing": self.billing, "refund": self.refund}[name]
        return moment.replace(hour=0, minute=0, second=0)

    def day(self, index: int) -> datetime:
        return self.start + timedelta(days=index)

    def index(self, moment: datetime) -> int:
        return (moment - self.start).days


def quotable(text: str) -> str | None:
    """The sentence a reply would quote: the first of four words or more, if not too long."""
    return next((s for s in sentences(text.split("\n")[0])
                 if len(s.split()) >= 4 and len(s) <= 220), None)


MONTHS = {
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"),
    "uk": ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня",
           "вересня", "жовтня", "листопада", "грудня"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def day_words(lang: str, moment: datetime) -> str:
    """``12 ноября`` / ``12 листопада`` / ``November 12``."""
    month = MONTHS[lang][moment.month - 1]
    return f"{month} {moment.day}" if lang == "en" else f"{moment.day} {month}"
