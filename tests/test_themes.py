"""Readable complaint themes: key phrases as lemmas, titles from members' sentences, the merge
of clusters into themes (tiny clusters to the nearest theme or "other"), two levels stored."""

import numpy as np
import pytest

import store
from insights.complaints import previous_clusters
from insights.phrases import ClassTfidfLabeler, Lemmatiser
from insights.themes import CentroidMerge, TitlePicker, sentences, trim, without_fillers
from store.insights import replace_clusters

pytestmark = pytest.mark.both_backends

NETWORK = ["Сети нет второй день, оператор молчит.", "Сеть пропала, оператор не помог.",
           "Нет сети дома, оперативно не починили.", "Сеть упала, оперативно никто не ответил."]
DELIVERY = ["Курьер опоздал с доставкой на три дня.", "Доставка задержалась, курьер не пришёл.",
            "Курьер потерял заказ, доставка сорвана.", "Доставку перенесли, курьер не звонит."]


def phrases(terms):
    return {term for term, _ in terms}


def test_key_phrases_are_lemmas_and_surface_forms_do_not_merge_words():
    terms = ClassTfidfLabeler().label(NETWORK + DELIVERY, np.array([0] * 4 + [1] * 4))
    network = phrases(terms[0])
    assert {"сеть", "оператор", "оперативно"} <= network  # "сети" / "сеть": one lemma
    assert "сети" not in network and not any(t.startswith("операт ") for t in network)
    assert {"курьер", "доставка"} <= phrases(terms[1])


def test_key_phrases_leave_out_pronouns_numbers_brand_names_and_boilerplate():
    texts = ["Мы вам перезвоним, команда Волны", "Наша команда Вольни вам напише",
             "We'll check it, the Volna team", "We'll message you, Volna team",
             "Три дня без связи с Волной", "Пять дней без связи, Вольна молчит"]
    labeler = ClassTfidfLabeler(exclude=["Volna", "Волна", "Вольна"])
    terms = labeler.label(texts, np.array([0, 0, 0, 0, 1, 1]))
    words = {w for t in phrases(terms[0]) | phrases(terms[1]) for w in t.split()}
    assert not words & {"мы", "вам", "наша", "команда", "we'll", "we", "team", "volna", "волны",
                        "вольни", "волной", "вольна", "три", "пять"}
    assert "связь" in phrases(terms[1])


def test_lemmatiser_reads_ru_uk_en():
    lemmas = Lemmatiser()
    assert [w and w[0] for w in lemmas.lemmas("Мережі немає, гроші списали")] == [
        "мережа", None, "гроші", "списати"]
    assert [w and w[0] for w in lemmas.lemmas("They charged me twice for refunds")] == [
        None, "charge", None, "twice", None, "refund"]
    assert lemmas.lemma("мне") is None and lemmas.lemma("денег") == "деньги"


def test_title_is_a_sentence_of_a_member_carrying_its_key_phrases():
    posts = ["Привет всем! Сеть пропала второй день, оператор не отвечает. Что делать?",
             "Нет сети, сижу без связи.", "Сеть так и не вернули."]
    terms = [("сеть", 0.5), ("оператор", 0.3), ("пропасть", 0.2)]
    title = TitlePicker().title(posts, terms)
    assert title == "Сеть пропала второй день, оператор не отвечает."
    assert any(title in sentences(post) for post in posts)


def test_titles_lose_the_fillers_they_open_with():
    posts = ["Короче, блин, сеть пропала второй день, оператор молчит.",
             "Honestly, the network is gone again."]
    assert TitlePicker().title(posts, [("сеть", 0.5)]) == (
        "Сеть пропала второй день, оператор молчит.")
    assert without_fillers("Так долго ждать нельзя.") == "Так долго ждать нельзя."
    assert without_fillers("Ну, ") == "Ну, "


def test_long_titles_are_trimmed_at_a_word_boundary():
    sentence = "Интернет пропадает каждый вечер " * 6
    short = trim(sentence)
    assert len(short) <= 100 and short.endswith("…")
    assert sentence.startswith(short[:-1]) and sentence[len(short) - 1] == " "
    assert trim("Коротко и ясно.") == "Коротко и ясно."


def centre(vector, tightness=0.9):
    vector = np.asarray(vector, dtype=np.float64)
    return tightness * vector / np.linalg.norm(vector)


def test_tiny_clusters_join_the_nearest_theme_or_other():
    e = np.eye(6)
    centres = np.vstack([centre(e[0] + 0.3 * e[2]), centre(e[0] - 0.3 * e[2]),  # theme A
                         centre(e[1] + 0.3 * e[3]), centre(e[1] - 0.3 * e[3]),  # theme B
                         centre(e[0] + 6 * e[4]),  # a tiny cluster, nearer A than B
                         centre(-e[0] - e[1] + 0.2 * e[5])])  # a tiny one unlike both
    themes = CentroidMerge(max_distance=0.85).merge(centres, [30, 25, 20, 20, 3, 4])
    assert themes.tolist() == [0, 0, 1, 1, 0, -1]


def test_theme_count_cuts_at_the_largest_jump_within_bounds():
    merge = CentroidMerge(min_themes=2, max_themes=4)
    assert merge.theme_count([0.1, 0.2, 0.9, 1.0]) == 3
    assert CentroidMerge(min_themes=2, max_themes=2).theme_count([0.1, 0.2, 0.9, 1.0]) == 2
    assert merge.theme_count([0.5]) == 2  # two clusters stay two themes
    assert CentroidMerge(max_distance=0.5).theme_count([0.1, 0.2, 0.9, 1.0]) == 3


def stored(db, mention) -> str:
    store.upsert_mention(db, mention)
    return store.mention_id(mention["source"], mention["url"])


def test_two_levels_are_stored_and_read_back_for_the_next_run(db, make_mention):
    ids = [stored(db, make_mention(url=f"https://forum.example.com/t/{i}")) for i in range(3)]
    theme = {"id": "t1", "label": "сеть", "title": "Сеть пропала.", "size": 3,
             "details": {"centroid": [1.0, 0.0]}, "members": [(m, 0.1, True) for m in ids]}
    subs = [{"id": "c1", "parent_id": "t1", "label": "сеть", "size": 2, "details": {},
             "members": [(m, 0.1, False) for m in ids[:2]]},
            {"id": "c2", "parent_id": "t1", "label": "оператор", "size": 1, "details": {},
             "members": [(ids[2], 0.1, False)]}]
    assert replace_clusters(db, [*subs, theme]) == 3  # sub-themes may come first
    clusters, themes = previous_clusters(db)
    assert sorted(c.id for c in clusters) == ["c1", "c2"]
    assert [t.id for t in themes] == ["t1"] and sorted(themes[0].member_ids) == sorted(ids)
    assert np.allclose(themes[0].centroid, [1.0, 0.0])
    db.execute("DELETE FROM clusters WHERE id = 't1'")  # a theme goes with its sub-themes
    assert db.execute("SELECT count(*) FROM clusters").fetchone()[0] == 0


def test_flat_clusters_of_earlier_runs_count_as_clusters(db, make_mention):
    mention = stored(db, make_mention())
    replace_clusters(db, [{"id": "c-old", "label": "refund", "size": 1,
                           "members": [(mention, 0.1, True)]}])
    clusters, themes = previous_clusters(db)
    assert [c.id for c in clusters] == ["c-old"] and themes == []
