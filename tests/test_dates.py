"""Dates as forums print them (crawlers/dates.py): absolute and relative, ru / uk / en."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crawlers.dates import BadDate, parse_date, pick_date, to_utc_iso
from crawlers.dates import timezone as zone

# The reference "now" of every relative date below: Tuesday 24 November 2026, 09:30 UTC
# (11:30 in Kyiv, 12:30 in Moscow, 04:30 in New York).
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
KYIV, MOSCOW, NEW_YORK = "Europe/Kyiv", "Europe/Moscow", "America/New_York"

ABSOLUTE = [
    # (text as shown, forum time zone, UTC)
    ("12.03.2024, 14:05", KYIV, "2024-03-12T12:05:00+00:00"),
    ("12.03.2024 14:05", "UTC", "2024-03-12T14:05:00+00:00"),
    ("05.11.2026 в 14:02", MOSCOW, "2026-11-05T11:02:00+00:00"),
    ("12.03.24", "UTC", "2024-03-12T00:00:00+00:00"),
    ("Mar 4, 2024 at 2:05 PM", "UTC", "2024-03-04T14:05:00+00:00"),
    ("Mar 4, 2024 at 12:05 AM", "UTC", "2024-03-04T00:05:00+00:00"),
    ("March 04, 2024, 02:05:33 PM »", "UTC", "2024-03-04T14:05:33+00:00"),
    ("Mon Sep 14, 2026 9:05 am", "UTC", "2026-09-14T09:05:00+00:00"),
    ("4 March 2024 - 02:05 PM", "UTC", "2024-03-04T14:05:00+00:00"),
    ("4 марта 2024 в 14:05", MOSCOW, "2024-03-04T11:05:00+00:00"),
    ("04 Марта 2024, 14:05:33", MOSCOW, "2024-03-04T11:05:33+00:00"),
    ("4 березня 2024 о 14:05", KYIV, "2024-03-04T12:05:00+00:00"),
    ("06 листопада 2026, 08:30:00", KYIV, "2026-11-06T06:30:00+00:00"),
    ("Сб, 04 мая 2024 14:05", MOSCOW, "2024-05-04T11:05:00+00:00"),
    ("14 вер 2026, 09:05", KYIV, "2026-09-14T06:05:00+00:00"),  # summer time: UTC+3
    ("09 ноя 2026, 22:25", MOSCOW, "2026-11-09T19:25:00+00:00"),
    ("1 травня 2025 р. о 9:00", KYIV, "2025-05-01T06:00:00+00:00"),
    ("03-04-2024, 02:05 PM", "UTC", "2024-03-04T14:05:00+00:00"),  # vBulletin's m-d-Y
    ("03/04/2024 02:05  PM", "UTC", "2024-03-04T14:05:00+00:00"),
    ("25/12/2025 10:00", "UTC", "2025-12-25T10:00:00+00:00"),  # day > 12: day first anyway
    ("2024-03-04 14:05", KYIV, "2024-03-04T12:05:00+00:00"),
    ("2024-03-04T14:05:00+0300", KYIV, "2024-03-04T11:05:00+00:00"),
    ("2026-11-08T10:00:00Z", MOSCOW, "2026-11-08T10:00:00+00:00"),
    ("1709550300", KYIV, "2024-03-04T11:05:00+00:00"),  # a data-time attribute
    # No year shown: this year, or last year if that would be in the future.
    ("4 марта в 14:05", "UTC", "2026-03-04T14:05:00+00:00"),
    ("Dec 30 at 10:00", "UTC", "2025-12-30T10:00:00+00:00"),
    # Edit notices carry the date among other words (and digits in user names).
    ("Last edited by marina_89 on Wed Sep 23, 2026 9:05 am, edited 1 time in total.", "UTC",
     "2026-09-23T09:05:00+00:00"),
    ("Востаннє редагував(ла) taras_2024 23 вер 2026, 09:05, всього редагувалось 1 раз.",
     KYIV, "2026-09-23T06:05:00+00:00"),
    ("Последний раз редактировалось petrovich; 05.11.2026 в 14:02.", MOSCOW,
     "2026-11-05T11:02:00+00:00"),
]

RELATIVE = [
    ("вчера в 14:05", MOSCOW, "2026-11-23T11:05:00+00:00"),
    ("Вчера, 18:40", MOSCOW, "2026-11-23T15:40:00+00:00"),
    ("сегодня, 09:12", MOSCOW, "2026-11-24T06:12:00+00:00"),
    ("Сегодня в 00:15", MOSCOW, "2026-11-23T21:15:00+00:00"),
    ("сьогодні о 10:00", KYIV, "2026-11-24T08:00:00+00:00"),
    ("вчора", KYIV, "2026-11-22T22:00:00+00:00"),  # midnight in Kyiv
    ("вчора о 23:50", KYIV, "2026-11-23T21:50:00+00:00"),
    ("позавчера в 10:00", MOSCOW, "2026-11-22T07:00:00+00:00"),
    ("Yesterday at 3:05 PM", NEW_YORK, "2026-11-23T20:05:00+00:00"),
    ("Today at 09:00", "UTC", "2026-11-24T09:00:00+00:00"),
    ("<strong>Today</strong> at 09:12:00 AM", "UTC", "2026-11-24T09:12:00+00:00"),
    ("2 hours ago", KYIV, "2026-11-24T07:30:00+00:00"),
    ("an hour ago", "UTC", "2026-11-24T08:30:00+00:00"),
    ("5 минут назад", MOSCOW, "2026-11-24T09:25:00+00:00"),
    ("минуту назад", MOSCOW, "2026-11-24T09:29:00+00:00"),
    ("час назад", MOSCOW, "2026-11-24T08:30:00+00:00"),
    ("3 дня назад", MOSCOW, "2026-11-21T09:30:00+00:00"),
    ("3 години тому", KYIV, "2026-11-24T06:30:00+00:00"),
    ("10 хвилин тому", KYIV, "2026-11-24T09:20:00+00:00"),
    ("2 год тому", KYIV, "2026-11-24T07:30:00+00:00"),  # Ukrainian "год." is hours
    ("1 week ago", "UTC", "2026-11-17T09:30:00+00:00"),
    ("Just now", "UTC", "2026-11-24T09:30:00+00:00"),
    ("только что", MOSCOW, "2026-11-24T09:30:00+00:00"),
]

# "Today" in the forum's own zone is not today in UTC: 23:30 UTC is tomorrow in Moscow.
LATE_NOW = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)

BAD = [
    "", "   ", "soon", "Reply #3", "31.02.2024", "25:61", "13:05 PM",
    "2 months ago", "год назад",  # too vague to give a time (and "год" is a year in Russian)
    "1 год назад",
]


@pytest.mark.parametrize(("text", "tz", "expected"), ABSOLUTE)
def test_absolute_dates(text, tz, expected):
    assert parse_date(text, now=NOW, tz=tz) == expected


@pytest.mark.parametrize(("text", "tz", "expected"), RELATIVE)
def test_relative_dates_against_now(text, tz, expected):
    assert parse_date(text, now=NOW, tz=tz) == expected


def test_today_is_the_forums_today_not_utcs():
    assert parse_date("Сегодня, 01:10", now=LATE_NOW, tz=MOSCOW) == "2026-11-24T22:10:00+00:00"
    assert parse_date("Today, 01:10", now=LATE_NOW, tz="UTC") == "2026-11-24T01:10:00+00:00"


def test_daylight_saving_is_the_zones_own():
    # Kyiv: UTC+3 in summer, UTC+2 in winter.
    assert parse_date("01.07.2026, 12:00", tz=KYIV) == "2026-07-01T09:00:00+00:00"
    assert parse_date("01.12.2026, 12:00", tz=KYIV) == "2026-12-01T10:00:00+00:00"


def test_day_first_option_for_slashed_and_dashed_dates():
    assert parse_date("03/04/2024", tz="UTC") == "2024-03-04T00:00:00+00:00"
    assert parse_date("03/04/2024", tz="UTC", day_first=True) == "2024-04-03T00:00:00+00:00"
    assert parse_date("03-04-2024, 14:05", tz="UTC", day_first=True) == \
        "2024-04-03T14:05:00+00:00"


def test_now_may_be_naive_utc_or_another_zone():
    naive = NOW.replace(tzinfo=None)
    kyiv_now = NOW.astimezone(timezone(timedelta(hours=2)))
    for now in (naive, kyiv_now):
        assert parse_date("вчора о 10:00", now=now, tz=KYIV) == "2026-11-23T08:00:00+00:00"


@pytest.mark.parametrize("text", BAD)
def test_what_is_not_a_date_is_bad_date(text):
    with pytest.raises(BadDate):
        parse_date(text, now=NOW, tz="UTC")


def test_pick_date_prefers_the_first_readable_candidate():
    attribute, shown = "2026-11-02T19:40:00+0200", "Nov 2, 2026"
    assert pick_date([attribute, shown], now=NOW, tz=KYIV) == "2026-11-02T17:40:00+00:00"
    # A broken attribute falls back to the visible text (a date only: midnight there).
    assert pick_date(["not-a-date", shown], now=NOW, tz=KYIV) == "2026-11-01T22:00:00+00:00"
    assert pick_date([None, "", "вчера в 14:05"], now=NOW, tz=MOSCOW) == \
        "2026-11-23T11:05:00+00:00"
    with pytest.raises(BadDate, match="no date"):
        pick_date([None, "  "], now=NOW)
    with pytest.raises(BadDate, match="soon"):
        pick_date(["soon"], now=NOW)


def test_to_utc_iso_reads_machine_timestamps():
    assert to_utc_iso("2026-11-08T10:00:00Z") == "2026-11-08T10:00:00+00:00"
    assert to_utc_iso("2026-11-08T12:00:00+02:00") == "2026-11-08T10:00:00+00:00"
    assert to_utc_iso("2026-11-08 12:00", assume_tz=zone(KYIV)) == "2026-11-08T10:00:00+00:00"
    with pytest.raises(BadDate):
        to_utc_iso("08.11.2026")


def test_time_zones_by_iana_name():
    assert zone(None) is UTC and zone("") is UTC and zone("utc") is UTC
    assert str(zone("Europe/Kyiv")) == "Europe/Kyiv"
    with pytest.raises(ValueError, match="unknown time zone"):
        zone("Mars/Olympus_Mons")
