"""Dates as forums print them → ISO-8601 in UTC. Pure functions.

Two entry points:

* :func:`to_utc_iso` reads a machine-readable timestamp (ISO-8601, as in ``<time datetime>``);
* :func:`parse_date` also reads what forums show people, in English, Russian and Ukrainian:
  absolute dates (``12.03.2024, 14:05``, ``Mar 4, 2024 at 2:05 PM``, ``4 марта 2024 в 14:05``,
  ``4 березня 2024 о 14:05``, ``Сб, 04 мая 2024 14:05``) and relative ones (``вчера в 14:05``,
  ``сьогодні о 10:00``, ``Yesterday at 3:05 PM``, ``2 hours ago``, ``5 минут назад``,
  ``3 години тому``) against a reference ``now``, in the forum's own time zone.

A fast hand-written reader handles the common shapes; what it does not recognise, and looks
like a date (a time of day, a month or weekday name, a relative word), goes to ``dateparser``
(ru / uk / en only): numbers in words (``два часа назад``, ``twenty-one minutes ago``),
combined units (``1 hour, 5 minutes ago``, ``2 дня 3 часа назад``) and weekdays
(``Sunday at 10:15 AM``, ``у неділю о 10:15``: the most recent such day before today).

:func:`pick_date` tries several candidates in order (a ``datetime`` attribute first, then the
visible text), so a machine-readable value wins whenever the page has one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dateparser import DateDataParser

from config.yaml_nodes import parse_time_zone


class BadDate(ValueError):
    """A date string that could not be understood."""


def to_utc_iso(value: str, *, assume_tz=UTC) -> str:
    """Parse an ISO-8601 timestamp (``Z`` or an offset allowed) into UTC ``…+00:00``.

    A timestamp without an offset is taken to be in ``assume_tz``.
    """
    text = (value or "").strip()
    if not text:
        raise BadDate("empty date")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadDate(f"not an ISO date: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=assume_tz)
    return _iso(moment)


def timezone(name: str | tzinfo | None) -> tzinfo:
    """A time zone by IANA name (``Europe/Kyiv``) or UTC offset (``UTC+3``, ``GMT-06:00``,
    ``+05:30``); ``None`` or empty is UTC. ``ValueError`` when unknown."""
    return parse_time_zone(name)


def parse_date(value: str, *, now: datetime | None = None, tz: str | tzinfo | None = None,
               day_first: bool = False) -> str:
    """A date as a forum prints it → ISO-8601 in UTC; :class:`BadDate` if not understood.

    ``tz`` is the forum's time zone (what a shown time without an offset means), ``now`` the
    moment the page was served (for ``yesterday``, ``2 hours ago`` and dates without a year;
    default: the current time). ``day_first`` reads ``03/04/2024`` and ``03-04-2024`` as
    3 April rather than March 4 (dotted dates such as ``03.04.2024`` are always day first).
    """
    zone = timezone(tz)
    reference = now or datetime.now(UTC)
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=UTC)
    text = _normalise(value)
    if not text:
        raise BadDate("empty date")
    if EPOCH.fullmatch(text):
        return _iso(datetime.fromtimestamp(int(text), UTC))
    if ISO_START.match(text):
        try:
            return to_utc_iso(value.strip(), assume_tz=zone)
        except BadDate:
            pass
    for reader in (_ago, _relative_day, _absolute, _dateparser):
        moment = reader(text, reference, zone, day_first)
        if moment is not None:
            return _iso(moment)
    raise BadDate(f"not a date: {value!r}")


def pick_date(candidates: Iterable[str | None], **options) -> str:
    """The first candidate that :func:`parse_date` understands (e.g. a ``datetime``
    attribute, then the visible text); :class:`BadDate` listing them when none is."""
    tried = []
    for candidate in candidates:
        if candidate is None or not candidate.strip():
            continue
        try:
            return parse_date(candidate, **options)
        except BadDate:
            tried.append(candidate.strip())
    raise BadDate(f"no date in {tried!r}" if tried else "no date")


# ---------------------------------------------------------------------------------------------
# Words

_MONTH_WORDS = {
    1: "january jan января январь янв січня січень січ",
    2: "february feb февраля февраль фев февр лютого лютий лют",
    3: "march mar марта март мар березня березень бер",
    4: "april apr апреля апрель апр квітня квітень квіт кві",
    5: "may мая май травня травень трав тра",
    6: "june jun июня июнь июн червня червень черв чер",
    7: "july jul июля июль июл липня липень лип",
    8: "august aug августа август авг серпня серпень серп сер",
    9: "september sept sep сентября сентябрь сент сен вересня вересень вер",
    10: "october oct октября октябрь окт жовтня жовтень жовт жов",
    11: "november nov ноября ноябрь нояб ноя листопада листопад лист лис",
    12: "december dec декабря декабрь дек грудня грудень груд гру",
}
MONTHS = {word: number for number, words in _MONTH_WORDS.items() for word in words.split()}

# "today" and friends: how many days back from the forum's current date.
DAY_WORDS = {
    "today": 0, "сегодня": 0, "сьогодні": 0, "сьогодня": 0,
    "yesterday": 1, "вчера": 1, "вчора": 1,
    "позавчера": 2, "позавчора": 2,
}
JUST_NOW = ("just now", "только что", "щойно", "прямо сейчас", "moments ago", "a moment ago")

# "N units ago": the unit words depend on the language of the suffix, because "год" is a
# year before "назад" (Russian) but an hour before "тому" (Ukrainian). Months and years are
# too vague to give a time, so they are not read.
_UNITS = {
    "ago": {
        "seconds": "s sec secs second seconds",
        "minutes": "m min mins minute minutes",
        "hours": "h hr hrs hour hours",
        "days": "d day days",
        "weeks": "w wk wks week weeks",
    },
    "назад": {
        "seconds": "с сек секунда секунду секунды секунд",
        "minutes": "м мин минута минуту минуты минут",
        "hours": "ч час часа часов",
        "days": "д день дня дней",
        "weeks": "нед неделя неделю недели недель",
    },
    "тому": {
        "seconds": "с сек секунда секунду секунди секунд",
        "minutes": "хв хвилина хвилину хвилини хвилин",
        "hours": "год година годину години годин",
        "days": "д день дні днів",
        "weeks": "тиж тиждень тижні тижнів",
    },
}
UNITS = {suffix: {word: unit for unit, words in table.items() for word in words.split()}
         for suffix, table in _UNITS.items()}
ONE = {"a", "an", "one", "один", "одна", "одну", "одно", "одне"}

_WEEKDAY_WORDS = (
    "monday mon tuesday tue tues wednesday wed thursday thu thur thurs friday fri saturday sat "
    "sunday sun понедельник вторник среда среду четверг пятница пятницу суббота субботу "
    "воскресенье пн вт ср чт пт сб вс понеділок вівторок середа середу четвер п'ятниця "
    "п'ятницю субота суботу неділя неділю нд"
)
WEEKDAYS = set(_WEEKDAY_WORDS.split())

# Numbers in words, read before dateparser (which takes "сорок пять" for 5): units, teens
# and tens; "a few" is taken as 3 and "a couple" as 2.
_NUMBER_WORDS = {
    1: "one один одна одну одно одне", 2: "two два две дві пару пара", 3: "three три",
    4: "four четыре чотири", 5: "five пять п'ять", 6: "six шесть шість", 7: "seven семь сім",
    8: "eight восемь вісім", 9: "nine девять дев'ять", 10: "ten десять",
    11: "eleven одиннадцать одинадцять", 12: "twelve двенадцать дванадцять",
    13: "thirteen тринадцать тринадцять", 14: "fourteen четырнадцать чотирнадцять",
    15: "fifteen пятнадцать п'ятнадцять", 16: "sixteen шестнадцать шістнадцять",
    17: "seventeen семнадцать сімнадцять", 18: "eighteen восемнадцать вісімнадцять",
    19: "nineteen девятнадцать дев'ятнадцять", 20: "twenty двадцать двадцять",
    30: "thirty тридцать тридцять", 40: "forty сорок", 50: "fifty пятьдесят п'ятдесят",
}
NUMBER_WORDS = {word: number for number, words in _NUMBER_WORDS.items() for word in words.split()}
NUMBER_PHRASES = {
    "a few": "3", "few": "3", "несколько": "3", "кілька": "3", "декілька": "3",
    "a couple of": "2", "a couple": "2", "couple of": "2",
    "half an hour": "30 minutes", "полчаса": "30 минут", "пол часа": "30 минут",
    "півгодини": "30 хвилин", "пів години": "30 хвилин",
}


def _words(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(word) for word in words), key=len, reverse=True))


NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
NOT_LETTER_AFTER = r"(?![^\W\d_])"
MONTH = rf"{NOT_LETTER_BEFORE}(?P<month>{_words(MONTHS)}){NOT_LETTER_AFTER}\.?"

EPOCH = re.compile(r"\d{9,11}")
ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}")
TIME = re.compile(
    r"(?<![\d:])(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?![\d:])"
    r"(?:\s*(?P<half>[ap])\.?\s?m\b\.?)?"
)
ISO_DAY = re.compile(r"(?<!\d)(?P<year>\d{4})[-./](?P<month>\d{1,2})[-./](?P<day>\d{1,2})(?!\d)")
DOTTED = re.compile(r"(?<![\d.])(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4}|\d{2})(?!\d)")
SLASHED = re.compile(r"(?<![\d/-])(?P<a>\d{1,2})(?P<sep>[/-])(?P<b>\d{1,2})(?P=sep)"
                     r"(?P<year>\d{4}|\d{2})(?!\d)")
DAY_MONTH = re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th|-?го|-?е)?\s*(?:of\s+)?{MONTH}"
                       rf",?(?:\s*(?P<year>\d{{4}})(?!\d))?")
MONTH_DAY = re.compile(rf"{MONTH}\s*(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"
                       rf"(?:,?\s*(?P<year>\d{{4}})(?!\d))?")
AGO = re.compile(
    rf"(?:(?P<count>\d+|{_words(ONE)})\s*)?{NOT_LETTER_BEFORE}(?P<unit>[^\W\d_]+)\.?\s+"
    rf"(?P<suffix>ago|назад|тому){NOT_LETTER_AFTER}"
)
DAY_WORD = re.compile(rf"{NOT_LETTER_BEFORE}(?P<word>{_words(DAY_WORDS)}){NOT_LETTER_AFTER}")
# The word before a matched "N units ago": another unit ("1 hour, 5 minutes ago") or, unless
# the count is in digits, a number in words ("два часа назад", "двадцать одну минуту назад")
# leaves the text to dateparser.
WORD_BEFORE = re.compile(r"(?P<word>[^\W\d_]+)[\s,-]*(?:(?:and|и|і|та|й)\s+)?$")
# What dateparser is given at all: a time of day, a month or weekday name, a relative word.
_DATE_WORDS = [*MONTHS, *WEEKDAYS, *DAY_WORDS, *JUST_NOW, *UNITS]
LOOKS_LIKE_DATE = re.compile(
    rf"(?<!\d)\d{{1,2}}:\d{{2}}(?!\d)|{NOT_LETTER_BEFORE}(?:{_words(_DATE_WORDS)}){NOT_LETTER_AFTER}"
)
NUMBER_WORD = re.compile(
    rf"{NOT_LETTER_BEFORE}(?:(?P<phrase>{_words(NUMBER_PHRASES)})|(?P<tens>двадцать|двадцять|"
    rf"twenty|тридцать|тридцять|thirty|сорок|forty|пятьдесят|п'ятдесят|fifty)"
    rf"(?:[\s-]+(?P<unit>{_words(w for w, n in NUMBER_WORDS.items() if n < 10)}))?"
    rf"|(?P<word>{_words(NUMBER_WORDS)})){NOT_LETTER_AFTER}"
)
# Words dateparser may skip before the date ("Опубликовано", "у" in "у неділю о 10:15").
MAX_SKIPPED_WORDS = 3


# ---------------------------------------------------------------------------------------------
# Readers: each returns an aware datetime, or None when the text is not of its kind.

def _ago(text: str, now: datetime, zone: tzinfo, day_first: bool) -> datetime | None:
    if any(phrase in text for phrase in JUST_NOW):
        return now
    match = AGO.search(text)
    if not match:
        return None
    count = match["count"]
    before = WORD_BEFORE.search(text[:match.start()])
    if before and (not (count or "").isdigit() or before["word"] in UNITS[match["suffix"]]):
        return None
    unit = UNITS[match["suffix"]].get(match["unit"])
    if unit is None:  # "півгодини тому"; or months and years, which dateparser turns down too
        return None
    amount = int(count) if count and count.isdigit() else 1
    return now - timedelta(**{unit: amount})


def _relative_day(text: str, now: datetime, zone: tzinfo, day_first: bool) -> datetime | None:
    match = DAY_WORD.search(text)
    if not match:
        return None
    day = now.astimezone(zone).date() - timedelta(days=DAY_WORDS[match["word"]])
    return _local(day, _time(text), zone)


def _absolute(text: str, now: datetime, zone: tzinfo, day_first: bool) -> datetime | None:
    day = _day(text, now.astimezone(zone), day_first)
    if day is None:
        return None
    moment = _local(day, _time(text), zone)
    return moment


def _dateparser(text: str, now: datetime, zone: tzinfo, day_first: bool) -> datetime | None:
    """What the fast readers do not know, read by dateparser: only text that looks like a date,
    and only a day or a moment (not "May" or "2024"). Up to :data:`MAX_SKIPPED_WORDS` leading
    words that are not part of the date are skipped."""
    if not LOOKS_LIKE_DATE.search(text):
        return None
    _time(text)  # a time such as "13:05 PM" is bad whatever dateparser makes of it
    words = _numbers_to_digits(text).split()
    parser = _date_parser(now.astimezone(zone).replace(tzinfo=None, microsecond=0))
    for start in range(min(len(words), MAX_SKIPPED_WORDS + 1)):
        candidate = " ".join(words[start:])
        if not LOOKS_LIKE_DATE.search(candidate):
            return None
        data = parser.get_date_data(candidate)
        if data.date_obj is None:
            continue
        if data.period not in ("day", "week", "time"):
            return None
        moment = data.date_obj
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return None


@functools.lru_cache(maxsize=64)  # one per page: its dates share the moment it was served
def _date_parser(local_now: datetime) -> DateDataParser:
    return DateDataParser(languages=["ru", "uk", "en"],
                          settings={"RELATIVE_BASE": local_now, "PREFER_DATES_FROM": "past"})


def _numbers_to_digits(text: str) -> str:
    """``сорок пять минут`` → ``45 минут``, ``a few minutes`` → ``3 minutes``."""
    def digits(match: re.Match) -> str:
        if match["phrase"]:
            return NUMBER_PHRASES[match["phrase"]]
        if match["tens"]:
            return str(NUMBER_WORDS[match["tens"]] + NUMBER_WORDS.get(match["unit"] or "", 0))
        return str(NUMBER_WORDS[match["word"]])
    return NUMBER_WORD.sub(digits, text)


def _day(text: str, local_now: datetime, day_first: bool) -> date | None:
    """The calendar date in ``text``, in the first form that matches."""
    if match := ISO_DAY.search(text):
        return _date(int(match["year"]), int(match["month"]), int(match["day"]), text)
    if match := DOTTED.search(text):
        return _date(_year(match["year"]), int(match["month"]), int(match["day"]), text)
    if match := SLASHED.search(text):
        first, second = int(match["a"]), int(match["b"])
        if first > 12 or (day_first and second <= 12):
            first, second = second, first
        return _date(_year(match["year"]), first, second, text)
    for pattern in (DAY_MONTH, MONTH_DAY):
        if match := pattern.search(text):
            month, day = MONTHS[match["month"]], int(match["day"])
            if match["year"]:
                return _date(int(match["year"]), month, day, text)
            # No year shown (e.g. "4 марта в 14:05"): this year, unless that is in the future.
            candidate = _date(local_now.year, month, day, text)
            if candidate > local_now.date() + timedelta(days=1):
                candidate = _date(local_now.year - 1, month, day, text)
            return candidate
    return None


def _time(text: str) -> time:
    """The time of day in ``text`` (midnight when none is shown)."""
    match = TIME.search(text)
    if not match:
        return time(0, 0)
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise BadDate(f"bad 12-hour time in {text!r}")
        hour = hour % 12 + (12 if match["half"] == "p" else 0)
    try:
        return time(hour, minute, second)
    except ValueError:
        raise BadDate(f"bad time in {text!r}") from None


def _date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise BadDate(f"no such day in {text!r}") from None


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 100 else year


def _local(day: date, clock: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, clock).replace(tzinfo=zone)


def _normalise(value: str) -> str:
    text = (value or "").replace("\u00a0", " ").replace("\u202f", " ").strip().lower()
    text = text.replace("\u2019", "'").replace("\u02bc", "'")  # п’ять, пʼять → п'ять
    return re.sub(r"\s+", " ", text)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Plausibility

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


def is_plausible(published_at: str, *, now: datetime) -> bool:
    """False for an ISO date that cannot be a post's: more than a day after ``now`` (a
    misread format or a wrong forum clock) or before 1990-01-01; also False for one that is
    not a date at all. A day of slack leaves room for time zones and skewed clocks."""
    try:
        moment = datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return EARLIEST <= moment <= now + FUTURE_SLACK
