import pytest

from config.sources import load_sources, select_sources
from config.yaml_nodes import ConfigError

SOURCES = """\
sources:
  - id: community
    kind: forum
    url: https://forum.example.com/
    brands: [volna]
    since_days: 30
    options:
      engine: phpbb
      boards: ["viewforum.php?f=1"]
  - id: off
    kind: forum
    url: https://other.example.com/
    enabled: false
"""


def _load(tmp_path, text):
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return load_sources(path)


def test_sources_load_with_defaults_and_options(tmp_path):
    community, off = _load(tmp_path, SOURCES)
    assert community.options == {"engine": "phpbb", "boards": ["viewforum.php?f=1"]}
    assert (community.since_days, community.max_pages, community.brands) == (30, 1000, ("volna",))
    assert not off.enabled
    assert [s.id for s in select_sources([community, off], [])] == ["community"]
    assert [s.id for s in select_sources([community, off], ["off"])] == ["off"]


def test_unknown_source_lists_known_ones(tmp_path):
    sources = _load(tmp_path, SOURCES)
    with pytest.raises(ConfigError, match="unknown source 'nope'; known: community, off"):
        select_sources(sources, ["nope"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("url: https://forum.example.com/", "url: forum.example.com"),
         "sources.yaml, line 4: sources[0].url: 'forum.example.com' is not an http(s) URL"),
        (("since_days: 30", "since_days: soon"),
         "sources.yaml, line 6: sources[0].since_days: expected a whole number"),
        (("id: off", "id: community"),
         "sources.yaml, line 10: sources[1].id: id 'community' is used twice"),
    ],
)
def test_bad_sources_file(tmp_path, change, message):
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, SOURCES.replace(*change))
    assert str(error.value) == message


def test_shipped_sources_file_is_valid():
    assert load_sources()


@pytest.mark.parametrize(
    ("written", "hours_east"),
    [("Europe/Kyiv", None), ("UTC+3", 3), ("UTC-06:00", -6), ("GMT-6", -6),
     ("GMT+05:30", 5.5), ("+03:00", 3), ("-0330", -3.5), ("UTC", 0)],
)
def test_time_zones_by_name_or_offset(tmp_path, written, hours_east):
    from datetime import datetime, timedelta

    from crawlers.dates import timezone
    text = SOURCES.replace("engine: phpbb", f'engine: phpbb\n      timezone: "{written}"')
    community, _ = _load(tmp_path, text)
    assert community.options["timezone"] == written
    offset = timezone(written).utcoffset(datetime(2026, 1, 15))
    if hours_east is None:
        assert offset == timedelta(hours=2)  # Kyiv in winter
    else:
        assert offset == timedelta(hours=hours_east)


@pytest.mark.parametrize("written", ["UTC+25", "GMT+05:75", "Mars/Olympus_Mons", "+3h", "UTC+"])
def test_bad_time_zone_fails_with_file_line_and_field(tmp_path, written):
    text = SOURCES.replace("engine: phpbb", f'engine: phpbb\n      timezone: "{written}"')
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, text)
    assert str(error.value).startswith(
        "sources.yaml, line 9: sources[0].options.timezone: ")
    assert written in str(error.value)


def test_a_bad_time_zone_stops_check_and_crawl_with_one_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES.replace("engine: phpbb", "engine: phpbb\n      timezone: UTC+99"),
                    encoding="utf-8")
    expected = ("error: sources.yaml, line 9: sources[0].options.timezone: time zone offset "
                "'UTC+99' is out of range (UTC-14:00 to UTC+14:00)")
    for args in (["check"], ["crawl", "community", "--db", str(tmp_path / "x.db")]):
        result = subprocess.run([sys.executable, str(root / "cli.py"), *args, "--sources",
                                 str(path)], capture_output=True, text=True, timeout=120,
                                cwd=root)
        assert result.returncode == 1
        assert result.stderr.strip() == expected


def test_forum_spider_reads_dates_in_an_offset_zone(tmp_path):
    from datetime import UTC, datetime

    from scrapy.utils.test import get_crawler

    from crawlers.dates import pick_date
    from crawlers.spiders.forum import ForumSpider
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES.replace("engine: phpbb", 'engine: phpbb\n      timezone: "GMT-6"'),
                    encoding="utf-8")
    crawler = get_crawler(ForumSpider, {"OTKLIK_SOURCES": str(path),
                                        "OTKLIK_STORE_ENABLED": False})
    spider = ForumSpider.from_crawler(crawler, source="community")
    now = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    assert pick_date(["Sunday at 10:15 AM"], now=now, tz=spider.tz) == \
        "2026-11-22T16:15:00+00:00"
    assert pick_date(["12.03.2024, 14:05"], now=now, tz=spider.tz) == \
        "2024-03-12T20:05:00+00:00"
