"""The crawlers' brand pre-filter: aliases, inflections, hashtags, ambiguous words."""

import re

import pytest

from config.catalogue import DEFAULT_CATALOGUE, Brand, Product, load_catalogue
from crawlers.brand_filter import BrandFilter, alias_pattern, build_rule, split_hashtags


@pytest.fixture(scope="module")
def brands():
    return BrandFilter(load_catalogue(DEFAULT_CATALOGUE).brands)


@pytest.mark.parametrize("text, expected", [
    # Latin, any case, possessive, handles with "_"
    ("Volna raised prices again", ["volna"]),
    ("VOLNA SUPPORT IS DOWN", ["volna"]),
    ("Volna's new plan is a joke", ["volna"]),
    ("@volna_help answer me please", ["volna"]),
    ("Switched to Telenova last week", ["telenova"]),
    # inflected Cyrillic brand names (ru and uk)
    ("Перешёл от Волны к Теленове", ["volna", "telenova"]),
    ("Абоненты Волны жалуются", ["volna"]),
    ("Доволен Волной, но не Теленовой", ["volna", "telenova"]),
    ("Я подключился к Теленову тарифу", ["telenova"]),
    ("Плачу Волне уже пятый год", ["volna"]),
    ("Звонил в Волну трижды", ["volna"]),
    ("Абоненти Волни скаржаться", ["volna"]),
    ("Задоволений Волною", ["volna"]),
    ("Перейшов до Теленови", ["telenova"]),
    ("У Теленові знову збій", ["telenova"]),
    # products, multi-word aliases and their inflections
    ("Volna Home тормозит по вечерам", ["volna"]),
    ("Подключил Волну Смарт", ["volna"]),
    ("Тариф Волна-Смарт хорош", ["volna"]),
    ("Приложение Моей Волны снова вылетает", ["volna"]),
    ("Домашнего интернета Волны хватает", ["volna"]),
    ("Telenova Fiber is fast", ["telenova"]),
    ("MyVolna не грузится", ["volna"]),
    # hashtags, camel-cased and plain
    ("#volna опять без связи", ["volna"]),
    ("#МояВолна лагает", ["volna"]),
    ("#VolnaHome down again", ["volna"]),
    ("#теленова_файбер лучше", ["telenova"]),
    ("#Теленова", ["telenova"]),
    # ё written as е and the other way round
    ("Волна Телеком — надёжно", ["volna"]),
])
def test_brands_found(brands, text, expected):
    assert brands.brands_in(text) == expected


@pytest.mark.parametrize("text", [
    "Новаволна выпустила альбом",  # the alias inside another word
    "Телеволна в эфире",
    "Волнение перед экзаменом",  # the stem with a non-case ending
    "Волновой процесс в физике",
    "Смотрю теленовеллу по вечерам",
    "Теленовости в девять",
    "Volnation is a band",
    "Telenovas and telenovelas",
    "#volnation",
    "",
])
def test_unrelated_words_do_not_match(brands, text):
    assert brands.brands_in(text) == []


@pytest.mark.parametrize("text, expected", [
    # "волна" is also a wave: it needs a context word nearby or a capital mid-sentence
    ("Волна жары накроет юг", []),
    ("Новая волна гриппа в регионах", []),
    ("ВОЛНА ЖАРЫ", []),
    ("На море большая волна, купаться нельзя", []),
    ("Волна подняла тарифы", ["volna"]),
    ("волна опять без интернета", ["volna"]),
    ("Оператор волна не отвечает", ["volna"]),
    ("Волною знову немає зв’язку", ["volna"]),  # typographic apostrophe, fleeting vowel
    ("Абоненти Волни чекають", ["volna"]),
    ("Вчера я перешёл в Волну", ["volna"]),
    ("Звонок в поддержку: Волна обещает перезвонить", ["volna"]),
    ("Волна жары.\nВолна опять без связи", ["volna"]),
])
def test_ambiguous_alias_needs_context_or_a_proper_name(brands, text, expected):
    assert brands.brands_in(text) == expected


def test_context_must_be_near_the_ambiguous_word(brands):
    far = "Волна жары накрыла юг. " + "Погода будет тёплой всю неделю. " * 10 + "Тариф тот же."
    assert brands.brands_in(far) == []
    assert brands.brands_in("Волна жары и тариф") == ["volna"]


def test_several_texts_are_read_together(brands):
    assert brands.brands_in("Операторы готовятся к зиме", None, "в Теленове заменили батареи") \
        == ["telenova"]
    assert brands.matches(None, "") is False


def test_alias_pattern_inflects_only_cyrillic_words_of_four_letters_or_more():
    assert re.fullmatch(alias_pattern("Volna"), "Volna")
    assert not re.search(alias_pattern("Volna"), "Volnой")
    assert re.search(alias_pattern("ТВ"), "Волна ТВ")
    assert not re.search(alias_pattern("ТВ"), "ТВой")
    assert re.search(alias_pattern("Волна Хоум"), "к Волне Хоум", re.IGNORECASE)


def test_split_hashtags_only_touches_hashtags():
    assert split_hashtags("#МояВолна и ВолнаТВ") == "#Моя Волна и ВолнаТВ"
    assert split_hashtags("#volna_home") == "#volna home"


def test_rules_from_plain_brand_objects():
    brand = Brand("acme", "Acme", True, ("Акме",), (Product("acme-x", "X", ("Акме Икс",)),),
                  ("Акме",), ("магазин",))
    only = BrandFilter([brand])
    assert only.brands_in("Купил в магазине Акме") == ["acme"]
    assert only.brands_in("Акме Икса не было") == ["acme"]
    assert only.brands_in("Акме") == []
    rule = build_rule("x", ["Зет"])
    assert rule.mentioned_in("про Зет") and not rule.mentioned_in("Зета")
