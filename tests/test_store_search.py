import store

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
