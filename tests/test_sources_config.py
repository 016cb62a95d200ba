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
