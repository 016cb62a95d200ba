"""Dates with numbers in words, combined units and weekday names (crawlers/dates.py), as
forums in Russian, Ukrainian and English print them, against a fixed crawl time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawlers.dates import BadDate, parse_date, pick_date

# The crawl time: Tuesday 24 November 2026, 09:30 UTC (11:30 in Kyiv, 12:30 in Moscow,
# 04:30 in New York).
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
KYIV, MOSCOW, NEW_YORK = "Europe/Kyiv", "Europe/Moscow", "America/New_York"

RUSSIAN = [
    ("два часа назад", "2026-11-24T07:30:00+00:00"),
    ("пять минут назад", "2026-11-24T09:25:00+00:00"),
    ("двадцать одну минуту назад", "2026-11-24T09:09:00+00:00"),
    ("сорок пять минут назад", "2026-11-24T08:45:00+00:00"),
    ("одну минуту назад", "2026-11-24T09:29:00+00:00"),
    ("Опубликовано два часа назад", "2026-11-24T07:30:00+00:00"),
    ("три дня назад", "2026-11-21T09:30:00+00:00"),
    ("две недели назад", "2026-11-10T09:30:00+00:00"),
    ("полчаса назад", "2026-11-24T09:00:00+00:00"),
    ("пару часов назад", "2026-11-24T07:30:00+00:00"),
    ("несколько минут назад", "2026-11-24T09:27:00+00:00"),
    ("1 час 5 минут назад", "2026-11-24T08:25:00+00:00"),
    ("2 дня 3 часа назад", "2026-11-22T06:30:00+00:00"),
    ("1 ч 5 мин назад", "2026-11-24T08:25:00+00:00"),
    ("в воскресенье в 10:15", "2026-11-22T07:15:00+00:00"),
    ("Вс, 10:15", "2026-11-22T07:15:00+00:00"),
    ("понедельник в 23:40", "2026-11-23T20:40:00+00:00"),
    # Today is a Tuesday: a weekday name is the most recent such day before today.
    ("во вторник в 08:00", "2026-11-17T05:00:00+00:00"),
]

UKRAINIAN = [
    ("три години тому", "2026-11-24T06:30:00+00:00"),
    ("дві години тому", "2026-11-24T07:30:00+00:00"),
    ("п'ять хвилин тому", "2026-11-24T09:25:00+00:00"),
    ("п’ять хвилин тому", "2026-11-24T09:25:00+00:00"),
    ("двадцять одну хвилину тому", "2026-11-24T09:09:00+00:00"),
    ("півгодини тому", "2026-11-24T09:00:00+00:00"),
    ("пів години тому", "2026-11-24T09:00:00+00:00"),
    ("кілька хвилин тому", "2026-11-24T09:27:00+00:00"),
    ("1 год 5 хвилин тому", "2026-11-24T08:25:00+00:00"),
    ("2 дні 3 години тому", "2026-11-22T06:30:00+00:00"),
    ("у неділю о 10:15", "2026-11-22T08:15:00+00:00"),
    ("в неділю о 10:15", "2026-11-22T08:15:00+00:00"),
    ("неділя, 10:15", "2026-11-22T08:15:00+00:00"),
    ("Понеділок о 9:00", "2026-11-23T07:00:00+00:00"),
    ("у п’ятницю о 18:30", "2026-11-20T16:30:00+00:00"),
]

ENGLISH = [
    ("two hours ago", "2026-11-24T07:30:00+00:00"),
    ("a few minutes ago", "2026-11-24T09:27:00+00:00"),
    ("twenty-one minutes ago", "2026-11-24T09:09:00+00:00"),
    ("fifteen minutes ago", "2026-11-24T09:15:00+00:00"),
    ("half an hour ago", "2026-11-24T09:00:00+00:00"),
    ("a couple of hours ago", "2026-11-24T07:30:00+00:00"),
    ("Posted two hours ago", "2026-11-24T07:30:00+00:00"),
    ("1 hour, 5 minutes ago", "2026-11-24T08:25:00+00:00"),
    ("2 hours and 5 minutes ago", "2026-11-24T07:25:00+00:00"),
    ("1 week, 2 days ago", "2026-11-15T09:30:00+00:00"),
    ("Sunday at 10:15 AM", "2026-11-22T15:15:00+00:00"),
    ("Saturday at 11:59 PM", "2026-11-22T04:59:00+00:00"),
    ("Monday at 9:05 AM", "2026-11-23T14:05:00+00:00"),
]


@pytest.mark.parametrize(("text", "expected"), RUSSIAN)
def test_russian(text, expected):
    assert parse_date(text, now=NOW, tz=MOSCOW) == expected


@pytest.mark.parametrize(("text", "expected"), UKRAINIAN)
def test_ukrainian(text, expected):
    assert parse_date(text, now=NOW, tz=KYIV) == expected


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english(text, expected):
    # The XenForo forum of a US company: its times are New York's.
    assert parse_date(text, now=NOW, tz=NEW_YORK) == expected


def test_a_number_in_words_is_never_read_as_one():
    one_hour_ago = parse_date("час назад", now=NOW, tz=MOSCOW)
    for text in ("два часа назад", "три часа назад", "двадцать один час назад"):
        assert parse_date(text, now=NOW, tz=MOSCOW) < one_hour_ago
    assert parse_date("1 hour, 5 minutes ago", now=NOW, tz="UTC") == \
        "2026-11-24T08:25:00+00:00"


def test_weekday_in_the_forums_zone_not_utcs():
    # 23:30 UTC on Tuesday is already Wednesday in Moscow: "Tuesday" there is today, so the
    # Tuesday meant is a week ago; in New York it is still Tuesday too.
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert parse_date("Monday at 10:00", now=late, tz=MOSCOW) == "2026-11-23T07:00:00+00:00"
    assert parse_date("вторник в 10:00", now=late, tz=MOSCOW) == "2026-11-24T07:00:00+00:00"


def test_fixed_offset_zone():
    from crawlers.dates import timezone
    assert parse_date("Sunday at 10:15 AM", now=NOW, tz=timezone("UTC-06:00")) == \
        "2026-11-22T16:15:00+00:00"


# Text that is no date, and dates too vague to give a moment: never a guess.
NOT_DATES = [
    "Reply #3", "#3", "3", "12", "2024", "пять", "May", "Page 2 of 10", "1/2", "3 of 4",
    "5 posts", "Joined: 12", "+1", "два года назад", "2 months ago", "год назад",
    "несколько", "a few", "Sunday school", "13:05 PM",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_no_wild_guesses(text):
    with pytest.raises(BadDate):
        parse_date(text, now=NOW, tz=KYIV)


def test_pick_date_falls_back_to_words():
    assert pick_date(["Reply #3", "два часа назад"], now=NOW, tz=MOSCOW) == \
        "2026-11-24T07:30:00+00:00"
