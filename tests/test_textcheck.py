"""The garble check (store/textcheck.py): replacement characters and mojibake are found in
Russian, Ukrainian and English text; real words of any script are not."""

import pytest

from store.textcheck import became_garbled, garble_marks, looks_garbled

LEGITIMATE = [
    "Списали абонплату за роуминг дважды за один день, 199 руб. каждый раз. Рёв, Сыр, Тула.",
    "Підтверджую, дзвінки обриваються вже тиждень. Їжак, ґанок, єдність, Сіль, Річка, Тієї.",
    "Після переходу на тариф «Volna Max» 5G на Оболоні ввечері дає 3 Мбіт/с — вдень понад 200.",
    "Check the SMS log and call 0 800 300 500: they refunded the second charge within a day.",
    "Telenova eSIM активувалась за 5 хвилин на iPhone 15 Pro; у Volna треба було йти в салон.",
    "Señor Ñoño from España paid 5 € for the AÑO pack, naïve café façade, São Paulo, NÃO.",
    "Ørsted, Ålesund, Æbleskiver, Müller, Çağlar, Björk, Þór, Ðorđe Petrović, Łódź.",
    "Great support 👍🏽🔥 ∑x² ≤ √π ± ∞ ≠ ∀∂∫ ≈ 3 × 4 ÷ 2 → ok ✓ №5 ½ °C",
    "ТОВ «С» і Т.І. Шевченко; Р. С. — так; РЖД—РФ; СіЧ; «Сім» і «Рій».",
    "It’s “fine” — really… they said ‘soon’.",
]

# What the same words turn into when their bytes are read in the wrong encoding.
ORIGINALS = ["Списали деньги за роуминг, верните!", "Їжак, ґанок і єдність — це наше.",
             "It’s “fine” — really, café."]


def _mojibake():
    for text in ORIGINALS:
        yield pytest.param(text.encode().decode("cp1251", "replace"), id="utf8-as-cp1251")
        yield pytest.param(text.encode().decode("cp1252", "replace"), id="utf8-as-cp1252")
        yield pytest.param(text.encode().decode("latin-1").encode("latin-1", "replace")
                           .decode("latin-1"), id="utf8-as-latin1")
        if not text.isascii() and not text.startswith("It"):
            yield pytest.param(text.encode("cp1251").decode("utf-8", "replace"),
                               id="cp1251-as-utf8")
            yield pytest.param(text.encode("cp1251").decode("cp1252", "replace"),
                               id="cp1251-as-cp1252")


@pytest.mark.parametrize("text", LEGITIMATE)
def test_real_words_in_any_script_are_not_flagged(text):
    assert garble_marks(text) == 0
    assert not looks_garbled(text)


@pytest.mark.parametrize("text", list(_mojibake()))
def test_words_read_in_the_wrong_encoding_are_flagged(text):
    assert looks_garbled(text), text


@pytest.mark.parametrize("sample", ["РїСЂРёРІРµС‚", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚", "вЂ” ", "â€™", "cafÃ©",
                                    "ïðèâåò", "� ������"])
def test_the_typical_sequences_are_flagged(sample):
    assert looks_garbled(f"Volna: {sample} ok")


def test_an_edit_is_garbling_only_when_it_adds_damage():
    readable = "Та же история. Отключила через *105*3#, вернули только за последний месяц."
    assert became_garbled(readable, readable.encode("cp1251").decode("utf-8", "replace"))
    assert became_garbled(readable, readable.encode().decode("cp1251"))
    assert became_garbled("Title", "Title �")
    assert not became_garbled(readable, readable + " UPD: после претензии вернули всё.")
    assert not became_garbled(None, readable)
    # A post that already had a replacement character may still be edited, and healed.
    damaged = "Вернули � 447 руб."
    assert not became_garbled(damaged, damaged + " Спасибо.")
    assert not became_garbled(damaged, "Вернули 447 руб.")
    assert became_garbled(damaged, damaged + " ��")
