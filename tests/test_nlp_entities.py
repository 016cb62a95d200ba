"""Brands, competitors and products in real-looking posts: inflection, hashtags, ambiguity."""

import pytest
import spacy

from config.catalogue import Brand, Catalogue, Product, Touchpoint
from nlp.analysis import analyze_text
from nlp.components import brand_entries, doc_hits, stem
from nlp.pipeline import load_nlp

ENTITY_KINDS = ("brand", "product", "competitor")

# A second, tiny catalogue: brand names pymorphy3 knows (МТС, Билайн) and one it may not.
TINY = Catalogue(
    industry="telecom",
    brands=(
        Brand("mts", "MTS", True, ("МТС", "MTS")),
        Brand("beeline", "Beeline", False, ("Билайн", "Beeline"),
              products=(Product("beeline-home", "Beeline Home", ("Домашний Билайн",)),)),
        Brand("kyivstar", "Kyivstar", False, ("Київстар", "Киевстар", "Kyivstar")),
    ),
    touchpoints=(Touchpoint("network", "Network", "Coverage and outages.",
                            {"ru": ("связь",), "uk": ("зв'язок",), "en": ("signal",)}),),
)


def entities(text, lang, catalogue=None):
    analysis = analyze_text(text, lang, catalogue)
    found = analysis.of_kind(*ENTITY_KINDS)
    for hit in found:
        assert text[hit.start : hit.end] == hit.evidence
        sentence = analysis.sentences[hit.sentence]
        assert sentence.start <= hit.start and hit.end <= sentence.end
    return [(hit.kind, hit.key, hit.evidence) for hit in found], found


@pytest.mark.parametrize(("text", "lang", "evidence"), [
    ("Третий месяц сижу в Волне, тариф устраивает.", "ru", "Волне"),
    ("Волной пользуюсь пять лет, связь отличная.", "ru", "Волной"),
    ("Користуюся Вольною вже рік, інтернет стабільний.", "uk", "Вольною"),
    ("Перейшла на Вольну, бо зв'язок кращий.", "uk", "Вольну"),
    ("Been with Volna for two years now.", "en", "Volna"),
])
def test_own_brand_in_inflected_forms(text, lang, evidence):
    found, _ = entities(text, lang)
    assert found == [("brand", "volna", evidence)]


@pytest.mark.parametrize(("text", "lang", "evidence"), [
    ("Подключил жене Теленову, посмотрим.", "ru", "Теленову"),
    ("С Теленовой таких проблем не было.", "ru", "Теленовой"),
    ("У Теленові роумінг дешевший.", "uk", "Теленові"),
    ("Telenova gave me a better deal.", "en", "Telenova"),
])
def test_competitor_in_inflected_forms(text, lang, evidence):
    found, _ = entities(text, lang)
    assert found == [("competitor", "telenova", evidence)]


def test_tiny_catalogue_inflections():
    found, hits = entities("Раньше был в МТСе, теперь сижу с Билайном.", "ru", TINY)
    assert found == [("brand", "mts", "МТСе"), ("competitor", "beeline", "Билайном")]
    found, _ = entities("Перейшла до Київстару місяць тому, у Київстарі все ок.", "uk", TINY)
    assert found == [("competitor", "kyivstar", "Київстару"),
                     ("competitor", "kyivstar", "Київстарі")]
    found, _ = entities("Подключил Домашний Билайн, а МТС оставил для звонков.", "ru", TINY)
    assert found == [("product", "beeline-home", "Домашний Билайн"), ("brand", "mts", "МТС")]


def test_products_multiword_and_inflected():
    found, hits = entities("В приложении Моей Волны не видно баланс.", "ru")
    assert found == [("product", "volna-app", "Моей Волны")]
    assert hits[0].extra["brand"] == "volna" and hits[0].method == "lemma"
    found, _ = entities("Подключили Волна ТВ и Volna Home, пока довольны.", "ru")
    assert found == [("product", "volna-tv", "Волна ТВ"), ("product", "volna-home", "Volna Home")]
    found, hits = entities("Теленова Гоу дешевле, но Теленовой Файбер я не доволен.", "ru")
    assert found == [("product", "telenova-mobile", "Теленова Гоу"),
                     ("product", "telenova-home", "Теленовой Файбер")]
    assert hits[1].extra == {"alias": "Теленова Файбер", "brand": "telenova", "own": False}


def test_multiword_alias_needs_its_capitals_when_inflected():
    # "Волна Дом" is a product; "Волна дома" is the brand at home (here: no context word).
    found, _ = entities("Волна дома не ловит совсем.", "ru")
    assert found == []


def test_hashtags():
    text = "Опять без интернета #volna #ВолнаТелеком\n#VolnaHome #теленова"
    found, hits = entities(text, "ru")
    assert found == [("brand", "volna", "#volna"), ("brand", "volna", "#ВолнаТелеком"),
                     ("product", "volna-home", "#VolnaHome"),
                     ("competitor", "telenova", "#теленова")]
    assert {hit.method for hit in hits} == {"hashtag"}
    assert [hit.sentence for hit in hits] == [0, 0, 1, 1]


def test_ambiguous_alias_needs_context():
    found, hits = entities("Волна снова без связи.", "ru")
    assert found == [("brand", "volna", "Волна")]
    assert hits[0].method == "context" and hits[0].extra["context"] == "связи"
    assert entities("На море была высокая волна.", "ru")[0] == []
    assert entities("Волны сегодня огромные, на пляже красный флаг.", "ru")[0] == []
    # Context counts within the sentence only.
    assert entities("Волна накрыла пляж. Связь пропала.", "ru")[0] == []


def test_ambiguous_alias_capitalised_mid_sentence_or_named_elsewhere():
    found, hits = entities("Вчера Волна опять тупила весь вечер.", "ru")
    assert found == [("brand", "volna", "Волна")]
    assert hits[0].extra["capitalised"] is True and hits[0].confidence == 0.7
    found, hits = entities("Мы с мужем в Волне уже три года. Волна норм.", "ru")
    assert found == [("brand", "volna", "Волне"), ("brand", "volna", "Волна")]
    assert hits[1].extra["confirmed_in_text"] is True


def test_alias_that_is_an_ordinary_word_needs_context_when_inflected_in_lower_case():
    # "Вольна" is also an adjective (free): "вольной борьбой", "вольний птах".
    assert entities("Занимаюсь вольной борьбой с детства.", "ru")[0] == []
    assert entities("Він вольний птах.", "uk")[0] == []
    found, hits = entities("з вольною все ок, інтернет літає", "uk")
    assert found == [("brand", "volna", "вольною")]
    assert hits[0].method == "context" and hits[0].extra["common_word"] is True


def test_mixed_language_post():
    text = "Switched from Теленова to Volna, швидкість супер, #волна"
    found, _ = entities(text, "en")
    assert found == [("competitor", "telenova", "Теленова"), ("brand", "volna", "Volna"),
                     ("brand", "volna", "#волна")]


def test_sentence_index_and_deterministic_output():
    text = "Привет всем!\nСижу на Теленове.  Думаю про Volna Smart"
    first = analyze_text(text, "ru")
    assert [s.text for s in first.sentences] == ["Привет всем!", "Сижу на Теленове.",
                                                 "Думаю про Volna Smart"]
    assert [(h.key, h.sentence) for h in first.of_kind(*ENTITY_KINDS)] == [
        ("telenova", 1), ("volna-mobile", 2)]
    assert analyze_text(text, "ru") == first


def test_other_language_uses_english_pipeline():
    assert load_nlp("other").lang == "en"
    assert entities("Volna!!! 🙂", "other")[0] == [("brand", "volna", "Volna")]


def test_stem_strips_one_ending():
    assert stem("МТСе") == stem("МТС") == "мтс"
    assert stem("Билайном") == stem("Билайн") == "билайн"
    assert stem("Київстару") == stem("Київстар")
    assert stem("Теленовою") == stem("Теленова") == "теленов"
    assert stem("Volna") == "volna"


def test_component_on_a_blank_pipeline():
    nlp = spacy.blank("ru")
    nlp.add_pipe("lemmatizer", config={"mode": "pymorphy3_lookup"})
    nlp.add_pipe("otklik_lemmas")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("otklik_brands", config={"entries": brand_entries(TINY)})
    nlp.initialize()
    doc = nlp("Билайн лучше, чем МТС? В Билайне дешевле.")
    assert [(h.key, h.evidence, h.sentence) for h in doc_hits(doc)] == [
        ("beeline", "Билайн", 0), ("mts", "МТС", 0), ("beeline", "Билайне", 1)]
    assert nlp.config["components"]["otklik_brands"]["entries"][0]["key"] == "mts"
