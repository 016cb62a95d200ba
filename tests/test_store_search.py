import pytest

import store
from store.search import MAX_QUERY_CHARS, MAX_TERMS, parse_query

pytestmark = pytest.mark.both_backends

POSTS = [
    ("https://f.example/p/1", "Перешёл на Билайн, доволен. А МТС прощай", "dmitry"),
    ("https://f.example/p/2", "Перейшов до Київстару, зв'язок стабільний", "olena"),
    ("https://f.example/p/3", "Volna support kept me on hold for 40 minutes", "kate"),
    ("https://f.example/p/4", "Волна опять без связи в Подмосковье", "ivan"),
]


def _fill(db, make_mention):
    for url, text, author in POSTS:
        store.upsert_mention(db, make_mention(url=url, text=text, author_handle=author))


def _urls(results):
    return sorted(result["url"] for result in results)


def test_cyrillic_search_is_case_insensitive_and_finds_inflected_forms(db, make_mention):
    _fill(db, make_mention)
    assert _urls(store.search_mentions(db, "билайн")) == ["https://f.example/p/1"]
    assert _urls(store.search_mentions(db, "КИЇВСТАР")) == ["https://f.example/p/2"]
    assert _urls(store.search_mentions(db, "волн")) == ["https://f.example/p/4"]
    assert _urls(store.search_mentions(db, "VOLNA")) == ["https://f.example/p/3"]


def test_yo_and_ye_are_the_same_letter_in_search(db, make_mention):
    _fill(db, make_mention)
    assert _urls(store.search_mentions(db, "перешел")) == ["https://f.example/p/1"]
    assert _urls(store.search_mentions(db, "перешёл")) == ["https://f.example/p/1"]


def test_latin_search_phrases_and_all_terms(db, make_mention):
    _fill(db, make_mention)
    assert _urls(store.search_mentions(db, '"on hold"')) == ["https://f.example/p/3"]
    assert _urls(store.search_mentions(db, "volna minutes")) == ["https://f.example/p/3"]
    assert store.search_mentions(db, "volna billing") == []


def test_short_terms_fall_back_to_substring(db, make_mention):
    _fill(db, make_mention)
    assert _urls(store.search_mentions(db, "МТС")) == ["https://f.example/p/1"]
    assert _urls(store.search_mentions(db, "40")) == ["https://f.example/p/3"]


def test_snippet_marks_the_match(db, make_mention):
    _fill(db, make_mention)
    (result,) = store.search_mentions(db, "перешел")
    assert result["snippet"].startswith("[Перешёл] на Билайн")
    assert result["author"] == "dmitry"


def test_source_filter(db, make_mention):
    _fill(db, make_mention)
    store.upsert_mention(db, make_mention(source="reviews", url="https://r.example/1",
                                          text="Волна лучшая"))
    assert _urls(store.search_mentions(db, "волна", source="reviews")) == ["https://r.example/1"]


def test_short_terms_match_percent_underscore_and_backslash_literally(db, make_mention):
    for url, text in [("https://f.example/s/1", "Скидка 50% на роутер"),
                      ("https://f.example/s/2", "Пароль сети volna_home не подходит"),
                      ("https://f.example/s/3", "Путь C:\\Volna в настройках"),
                      ("https://f.example/s/4", "Скидка 500 рублей, сеть volnahome")]:
        store.upsert_mention(db, make_mention(url=url, text=text))
    assert _urls(store.search_mentions(db, "%")) == ["https://f.example/s/1"]
    assert _urls(store.search_mentions(db, "0%")) == ["https://f.example/s/1"]
    assert _urls(store.search_mentions(db, "_")) == ["https://f.example/s/2"]
    assert _urls(store.search_mentions(db, "a_")) == ["https://f.example/s/2"]
    assert _urls(store.search_mentions(db, "\\")) == ["https://f.example/s/3"]
    # three characters or more go through the index, also literally
    assert _urls(store.search_mentions(db, "50%")) == ["https://f.example/s/1"]
    assert _urls(store.search_mentions(db, "a_h")) == ["https://f.example/s/2"]


@pytest.mark.parametrize("query", [
    '"', '"""', '"unbalanced', 'on hold"', "NEAR(volna support)", "NEAR(", "volna*", "*",
    "^volna", "text:volna", "title:", "volna OR kate", "AND", "NOT volna", "-volna", "+",
    "(", ")", "{title text}:volna", "'", "it's", "\\", "\x00", "volna\x00support", ":",
    '"on" "hold', "'; DROP TABLE mentions; --", "%", "_", "[", "*" * 300,
])
def test_hostile_queries_never_raise(db, make_mention, query):
    _fill(db, make_mention)
    results = store.search_mentions(db, query)
    assert isinstance(results, list)
    assert store.count_mentions(db) == len(POSTS)


def test_fts_operators_and_column_filters_are_plain_text(db, make_mention):
    _fill(db, make_mention)
    store.upsert_mention(db, make_mention(url="https://f.example/p/5",
                                          text="Пишу text:volna в поиске, а он молчит"))
    assert _urls(store.search_mentions(db, "text:volna")) == ["https://f.example/p/5"]
    assert store.search_mentions(db, "volna OR ivan") == []  # OR is a word to find
    assert store.search_mentions(db, "volna*") == []


def test_apostrophes_belong_to_the_word(db, make_mention):
    _fill(db, make_mention)
    assert _urls(store.search_mentions(db, "зв'язок стабільний")) == ["https://f.example/p/2"]


def test_long_queries_are_cut_to_their_first_terms_and_characters():
    assert parse_query(" ".join(f"w{i}" for i in range(50))) == [
        f"w{i}" for i in range(MAX_TERMS)]
    assert parse_query("я" * 1000) == ["я" * MAX_QUERY_CHARS]
    assert parse_query('"on   hold" x "open') == ["on hold", "x", "open"]
