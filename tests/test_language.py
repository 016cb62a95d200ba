"""Language identification of short ru / uk / en posts, brand names in the other script and
code-switching included."""

import pytest

import nlp.language
from nlp.language import detect_language, letter_vote


@pytest.mark.parametrize(("text", "language"), [
    # a Russian post naming a Ukrainian brand stays Russian
    ("Київстар опять не работает…", "ru"),
    ("Київстар опять не работает уже третий день", "ru"),
    ("Ну шо, Київстар, когда починишь?", "ru"),
    ("Дія не работает с утра", "ru"),
    # a Ukrainian post naming a Russian brand stays Ukrainian
    ("Эльдорадо знову затримує доставку", "uk"),
    ("Знову не працює Связной", "uk"),
    # plain short posts
    ("Спасибо, всё быстро доставили", "ru"),
    ("Дякую, доставили навіть раніше, ніж обіцяли", "uk"),
    ("Замовив у Розетці, доставили швидко", "uk"),
    ("My Kyivstar SIM stopped working again", "en"),
])
def test_short_mixed_posts(text, language):
    assert detect_language(text).language == language


def test_confident_fasttext_names_the_letters_it_outweighs():
    guess = detect_language("Київстар опять не работает…")
    assert guess.language == "ru"
    assert guess.confidence > 0.9
    assert guess.evidence == "fastText: ru (outweighs Ukrainian letters: ї)"


def _fake_fasttext(monkeypatch, scores):
    def detect(_text, k):
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:k]
        return [{"lang": lang, "score": score} for lang, score in ranked]
    monkeypatch.setattr(nlp.language, "_detector", lambda: detect)


def test_letters_decide_when_fasttext_names_another_language(monkeypatch):
    _fake_fasttext(monkeypatch, {"bg": 0.55, "uk": 0.3, "ru": 0.1})
    guess = detect_language("Сільпо знов черги")
    assert (guess.language, guess.evidence) == ("uk", "Ukrainian letters: і")
    _fake_fasttext(monkeypatch, {"sr": 0.5, "uk": 0.4, "ru": 0.1})
    assert detect_language("Опять вылетает приложение").language == "ru"


def test_letters_decide_below_the_threshold_only(monkeypatch):
    _fake_fasttext(monkeypatch, {"ru": 0.6, "uk": 0.35})
    assert detect_language("Дія не работает", vote_below=0.7).language == "uk"
    assert detect_language("Дія не работает", vote_below=0.5).language == "ru"


def test_letter_vote_counts_letters_of_each_language():
    assert letter_vote("Епіцентр, мой любимый участник перепел мою любимую песню в моём")[0] \
        == "ru"
    assert letter_vote("Їжак і кіт, але объём")[0] == "uk"
    assert letter_vote("Все ок") == (None, "")


def test_no_letters_is_other():
    assert detect_language("1. :) 2026").language == "other"
