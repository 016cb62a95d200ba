"""Intent signals in real-looking posts: recommendation, churn, question, comparison, answer."""

import pytest
import yaml

from nlp.analysis import analyze_text
from nlp.components import doc_hits
from nlp.intents import DEFAULT_PATTERNS, load_intents
from nlp.pipeline import build_nlp, default_catalogue


def intents(text, lang):
    hits = analyze_text(text, lang).of_kind("intent")
    for hit in hits:
        assert text[hit.start : hit.end] == hit.evidence
    return hits


def found(text, lang):
    return [(hit.key, hit.evidence) for hit in intents(text, lang)]


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Всем рекомендую Волну, за два года ни одного сбоя!", "ru",
     [("recommendation", "Всем рекомендую")]),
    ("Советую Волну, не пожалеете.", "ru",
     [("recommendation", "Советую"), ("recommendation", "не пожалеете")]),
    ("Раджу всім Вольну, зв'язок супер.", "uk", [("recommendation", "Раджу всім")]),
    ("Рекомендую всім, хто їздить за кордон.", "uk", [("recommendation", "Рекомендую всім")]),
    ("Highly recommend Volna Home for remote work.", "en",
     [("recommendation", "Highly recommend")]),
    ("If you need decent roaming, go with Volna.", "en", [("recommendation", "go with Volna")]),
])
def test_recommendation(text, lang, expected):
    assert found(text, lang) == expected


@pytest.mark.parametrize(("text", "lang"), [
    ("Не рекомендую Волну никому.", "ru"),
    ("Ні в якому разі не раджу.", "uk"),
    ("Would not recommend Telenova.", "en"),
    ("Рекомендую ли я Волну? Сложный вопрос.", "ru"),  # a question, not a recommendation
    ("Go with the flow.", "en"),  # no brand after "go with"
])
def test_no_recommendation(text, lang):
    assert "recommendation" not in [key for key, _ in found(text, lang)]


def test_churn_names_its_target():
    (hit,) = intents("Всё, надоело, ухожу к Теленове.", "ru")
    assert (hit.key, hit.evidence) == ("churn", "ухожу к Теленове")
    assert hit.extra["target"] == "telenova" and hit.extra["target_own"] is False
    assert hit.confidence == 0.9
    hits = intents("Ушёл от Волны к Теленове и не жалею.", "ru")
    churn = [h for h in hits if h.key == "churn"]
    assert [(h.evidence, h.extra["target"], h.extra["from"]) for h in churn] == [
        ("Ушёл от Волны к Теленове", "telenova", "volna")]
    (hit,) = intents("Переходжу на Теленову з наступного місяця.", "uk")
    assert (hit.evidence, hit.extra["target"]) == ("Переходжу на Теленову", "telenova")
    (hit,) = intents("I'm switching to Telenova Go next month.", "en")
    assert hit.evidence == "switching to Telenova Go"
    assert (hit.extra["target"], hit.extra["target_product"]) == ("telenova", "telenova-mobile")


@pytest.mark.parametrize(("text", "lang", "left", "target"), [
    ("Перешёл с Теленовы на Волну, доволен.", "ru", "telenova", "volna"),
    ("Месяц назад перешла со своей Волны на Теленову.", "ru", "volna", "telenova"),
    ("Перейшов з Волни на Теленову, зв'язок кращий.", "uk", "volna", "telenova"),
    ("Switched from Volna to Telenova last week.", "en", "volna", "telenova"),
])
def test_churn_from_one_brand_to_another(text, lang, left, target):
    churn = [h for h in intents(text, lang) if h.key == "churn"]
    assert len(churn) == 1, churn
    assert (churn[0].extra["from"], churn[0].extra["target"]) == (left, target)


@pytest.mark.parametrize(("text", "lang", "evidence"), [
    ("Завтра расторгаю договор, хватит.", "ru", "расторгаю договор"),
    ("Хочу розірвати договір, що для цього потрібно", "uk", "розірвати договір"),
    ("Cancelling my contract with Volna tomorrow.", "en", "Cancelling my contract"),
])
def test_churn_without_a_named_competitor(text, lang, evidence):
    hits = [h for h in intents(text, lang) if h.key == "churn"]
    assert [h.evidence for h in hits] == [evidence]
    assert "target" not in hits[0].extra


def test_weak_churn_cue_needs_a_brand():
    assert found("Перехожу на новый тариф с понедельника.", "ru") == []
    assert found("Switching to dark mode fixed my eyes.", "en") == []


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Подскажите, как подключить роуминг?", "ru", ("Подскажите", "cue")),
    ("Как настроить APN на Волне?", "ru", ("Как настроить APN на Волне?", "question-word")),
    ("Підкажіть, будь ласка, де взяти PUK-код.", "uk", ("Підкажіть", "cue")),
    ("Чи є покриття в Карпатах?", "uk", ("Чи є покриття в Карпатах?", "question-word")),
    ("How do I activate eSIM on Volna?", "en", ("How do I", "cue")),
    ("Anyone know why Volna is down", "en", ("Anyone know", "cue")),
    ("Волна опять лежит?", "ru", ("Волна опять лежит?", "question-mark")),
])
def test_question(text, lang, expected):
    hits = [h for h in intents(text, lang) if h.key == "question"]
    assert [(h.evidence, h.method) for h in hits] == [expected]


@pytest.mark.parametrize(("text", "lang", "evidence"), [
    ("У Теленовы интернет лучше, чем у Волны.", "ru", "лучше, чем"),
    ("Теленова краще ніж Вольна, чесно.", "uk", "краще ніж"),
    ("Volna is way cheaper than Telenova.", "en", "cheaper than"),
])
def test_comparison_cue_with_both_brands(text, lang, evidence):
    (hit,) = [h for h in intents(text, lang) if h.key == "comparison"]
    assert (hit.evidence, hit.method) == (evidence, "cue")
    assert (hit.extra["own"], hit.extra["competitor"]) == ("volna", "telenova")


def test_comparison_from_both_brands_in_a_sentence():
    (hit,) = intents("Были в Теленове, теперь в Волне.", "ru")
    assert (hit.key, hit.evidence, hit.method) == (
        "comparison", "Теленове, теперь в Волне", "brand-pair")
    assert found("Теленова норм. Волна тоже норм, тариф устраивает.", "ru") == []


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Попробуйте перезагрузить телефон, у меня помогло.", "ru",
     ["Попробуйте", "у меня помогло"]),
    ("Спробуйте вимкнути VoLTE в налаштуваннях, мені допомогло.", "uk",
     ["Спробуйте", "мені допомогло"]),
    ("Try toggling airplane mode. Restarting the router worked for me.", "en",
     ["Try", "worked for me"]),
])
def test_answer_to_another_customer(text, lang, expected):
    assert [e for k, e in found(text, lang) if k == "answer"] == expected


def test_mixed_language_post_and_sentence_indices():
    text = "Волна лагает весь день, anyone know what's up?\nПереходжу на Теленову, раджу всім"
    hits = intents(text, "ru")
    assert [(h.key, h.evidence, h.sentence) for h in hits] == [
        ("question", "anyone know", 0),
        ("churn", "Переходжу на Теленову", 1),
        ("recommendation", "раджу всім", 1),
    ]


def test_patterns_file_is_checked(tmp_path):
    spec = load_intents(DEFAULT_PATTERNS)
    assert set(spec) == {"recommendation", "churn", "question", "comparison", "answer"}
    assert all(set(s["cues"]) == {"ru", "uk", "en"} for s in spec.values())
    bad = tmp_path / "intents.yaml"
    bad.write_text(yaml.safe_dump({"churn": {"label": "Churn", "rule": "vibes", "cues": {}}}))
    with pytest.raises(ValueError, match="rule 'vibes' is not one of"):
        load_intents(bad)
    bad.write_text(yaml.safe_dump({"churn": {"label": "Churn", "cues": {"en": [{"x": 1}]}}}))
    with pytest.raises(ValueError, match="needs exactly one of lemmas, words, tokens"):
        load_intents(bad)


def test_own_patterns_file_with_brand_words(tmp_path):
    path = tmp_path / "intents.yaml"
    pattern = [{"LOWER": "бегу"}, {"LOWER": "к"}, {"_": {"otklik_entity": "competitor"}}]
    path.write_text(yaml.safe_dump({"churn": {"label": "Churn", "target": True,
                                              "cues": {"ru": [{"tokens": pattern}]}}},
                                   allow_unicode=True), encoding="utf-8")
    nlp = build_nlp("ru", default_catalogue(), intent_patterns=path)
    hits = [h for h in doc_hits(nlp("Бегу к Теленове, сил нет.")) if h.kind == "intent"]
    assert [(h.key, h.evidence, h.extra["target"]) for h in hits] == [
        ("churn", "Бегу к Теленове", "telenova")]
