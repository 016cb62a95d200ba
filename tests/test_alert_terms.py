from insights.alert_terms import distinctive_terms, load_stopwords, tokenize

INCIDENT = [
    "Теленова опять списала деньги за роуминг, верните! Я же был дома",
    "Списали за роуминг 500 рублей, это что вообще такое?",
    "Снова списание за роуминг, хотя я никуда не ездил",
    "Мені зняли гроші за роумінг, хоча я вдома. Жах",
    "Зняли гроші за роумінг вже вдруге, де підтримка?",
    "Telenova charged me for roaming again, I never left the country",
    "Roaming charges on my bill again? I was at home all week",
    "Интернет работает нормально, но роуминг списали",
]
BASELINE = [
    "Теленова хороший тариф, интернет работает",
    "Нормальная связь у Теленовы в метро",
    "Telenova support answered fast, thanks",
    "Интернет работает, тариф нормальный, я доволен",
    "Дякую за швидкий інтернет у Києві",
    "Тариф дорогой, но связь хорошая и интернет тоже",
    "Підтримка відповіла швидко, інтернет працює",
    "The app works and the internet is fine",
] * 3


def test_planted_complaint_words_lead_and_stop_words_do_not_appear():
    terms = distinctive_terms(INCIDENT, BASELINE, top=8, exclude=["Теленова", "Telenova"])
    words = [term.term for term in terms]
    assert words[0] in {"роуминг", "роумінг"}
    for planted in ("роуминг", "роумінг", "roaming", "зняли", "гроші"):
        assert planted in words
    stop = load_stopwords()
    assert not stop & set(words)
    assert "интернет" not in words and "internet" not in words  # as common in the baseline
    assert all(term.score > 0 for term in terms)
    assert [term.score for term in terms] == sorted((term.score for term in terms), reverse=True)
    roaming = next(term for term in terms if term.term == "роуминг")
    assert (roaming.incident_posts, roaming.baseline_posts) == (4, 0)


def test_inflected_forms_share_a_stem_and_show_the_commonest_form():
    terms = distinctive_terms(["списали деньги", "списали опять", "списала всё"], ["всё хорошо"],
                              min_posts=2)
    assert terms[0].term == "списали"
    assert terms[0].incident_posts == 3
    unstemmed = distinctive_terms(["списали деньги", "списали опять", "списала всё"],
                                  ["всё хорошо"], min_posts=2, stem_length=0)
    assert [t.term for t in unstemmed] == ["списали"]


def test_tokenizer_keeps_apostrophes_and_drops_stop_words_and_short_words():
    assert tokenize("Немає зв’язку і зв'язок не працює, WTF ok") == [
        "немає", "зв'язку", "зв'язок", "працює", "wtf"]
    assert tokenize("Немає зв'язку, і це все", load_stopwords()) == ["зв'язку"]
    assert tokenize("Ещё раз: всё сломалось в 2024") == ["еще", "раз", "все", "сломалось"]


def test_stop_words_are_data_for_each_language():
    stop = load_stopwords()
    assert {"это", "що", "the", "off"} <= stop
    assert all(isinstance(word, str) and word == word.lower() for word in stop)


def test_nothing_to_say_without_incident_posts():
    assert distinctive_terms([], BASELINE) == []
    assert distinctive_terms(["роуминг"], BASELINE) == []  # one post is below min_posts
