"""Complaint clusters: planted ru/uk/en themes, labels, stable ids, trends, TF-IDF fallback."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import logging
from datetime import UTC, datetime

import numpy as np
import pytest

from insights import cluster_steps
from insights import themes as theme_steps
from insights.cluster_steps import (
    AverageLinkage,
    PCAReducer,
    SingleThemeCheck,
    TfidfEmbedder,
)
from insights.clustering import (
    Cluster,
    ClusterPipeline,
    ClusterRef,
    cluster_trend,
    match_clusters,
    new_cluster_id,
)
from insights.phrases import ClassTfidfLabeler, label_from_terms, load_stopwords

REFUND = {  # "refund promised in 3 days, still nothing after two weeks"
    "r-en1": "They promised a refund within 3 days, two weeks later still nothing.",
    "r-en2": "Still waiting for my refund, support said 3 days and it has been two weeks.",
    "r-en3": "Refund was promised in three days, but the money has not come back after 14 days.",
    "r-en4": "Where is my refund? Promised in 3 business days, nothing after two weeks.",
    "r-ru1": "Обещали вернуть деньги за 3 дня, прошло две недели — возврата так и нет.",
    "r-ru2": "Возврат средств обещали через три дня, уже две недели жду, денег нет.",
    "r-ru3": "Где мой возврат? Сказали 3 дня, прошло 14 дней, деньги так и не вернули.",
    "r-ru4": "Две недели жду возврат денег, хотя обещали вернуть за три дня.",
    "r-uk1": "Обіцяли повернути гроші за 3 дні, минуло два тижні — повернення досі немає.",
    "r-uk2": "Повернення коштів обіцяли за три дні, чекаю вже два тижні, грошей немає.",
    "r-uk3": "Де моє повернення? Сказали 3 дні, минуло 14 днів, гроші так і не повернули.",
    "r-uk4": "Два тижні чекаю на повернення грошей, хоча обіцяли за три дні.",
}
EVENING = {  # "no internet in the evening, speed drops"
    "e-en1": "No internet every evening, the speed drops to almost zero after 7 pm.",
    "e-en2": "In the evenings the internet keeps disconnecting and the speed falls.",
    "e-en3": "Internet speed drops every night, pages won't load after 8 pm.",
    "e-en4": "Every evening my home internet is gone or crawling at 1 Mbps.",
    "e-ru1": "Каждый вечер пропадает интернет, скорость падает почти до нуля.",
    "e-ru2": "Вечером интернет постоянно отваливается, скорость падает.",
    "e-ru3": "По вечерам скорость интернета падает, после восьми ничего не грузится.",
    "e-ru4": "Каждый вечер домашний интернет пропадает или еле работает.",
    "e-uk1": "Щовечора зникає інтернет, швидкість падає майже до нуля.",
    "e-uk2": "Увечері інтернет постійно відвалюється, швидкість падає.",
    "e-uk3": "Вечорами швидкість інтернету падає, після восьмої нічого не вантажиться.",
    "e-uk4": "Щовечора домашній інтернет зникає або ледве працює.",
}
OTHER = {
    "o-1": "The new app design looks great, thanks!",
    "o-2": "Курьер нагрубил мне прямо у двери.",
    "o-3": "Підкажіть, як змінити тариф на дешевший?",
    "o-4": "My card was blocked at the airport abroad.",
    "o-5": "В отделении огромная очередь, работает одно окно.",
    "o-6": "The coffee machine in the lobby is broken again.",
}
ADDED = {
    "r-en5": "Refund promised in 3 days; two weeks on and still no money.",
    "e-ru5": "Опять вечером нет интернета, скорость падает.",
    "o-7": "Where can I download the annual report?",
}
MORE_REFUND = {  # the same complaint again, other words: one theme with REFUND
    "s-en1": "I cancelled the order and the refund still hasn't arrived, they said three days.",
    "s-en2": "Two weeks since they promised my money back. No refund, no answer.",
    "s-en3": "Support keeps saying the refund is processing, it's been 15 days.",
    "s-en4": "Refund promised in 3 days; two weeks on and still no money.",
    "s-ru1": "Отменил заказ, деньги обещали вернуть за три дня, прошло две недели.",
    "s-ru2": "Возврат так и не пришёл, поддержка говорит ждите, уже 15 дней.",
    "s-ru3": "Две недели назад обещали возврат, денег до сих пор нет.",
    "s-ru4": "Мне до сих пор не вернули деньги, хотя обещали за 3 рабочих дня.",
    "s-uk1": "Скасував замовлення, гроші обіцяли повернути за три дні, минуло два тижні.",
    "s-uk2": "Повернення так і не надійшло, підтримка каже чекайте, вже 15 днів.",
    "s-uk3": "Два тижні тому обіцяли повернення, грошей досі немає.",
    "s-uk4": "Мені досі не повернули гроші, хоча обіцяли за 3 робочі дні.",
}
TWICE = {  # "charged twice": billing too, but another complaint than the refund
    "t-en1": "I was charged twice for the same monthly plan this month.",
    "t-en2": "Double charge on my card for one subscription, fix it.",
    "t-en3": "The bill shows the same fee two times, I paid it twice.",
    "t-en4": "You took the payment twice from my account for one order.",
    "t-ru1": "С карты дважды списали абонентскую плату за один месяц.",
    "t-ru2": "Списали оплату два раза за одну подписку.",
    "t-ru3": "В счёте одна и та же услуга выставлена дважды.",
    "t-ru4": "За один заказ деньги сняли с карты два раза.",
    "t-uk1": "З картки двічі списали абонплату за один місяць.",
    "t-uk2": "Списали оплату два рази за одну підписку.",
    "t-uk3": "У рахунку та сама послуга виставлена двічі.",
    "t-uk4": "За одне замовлення гроші зняли з картки двічі.",
}
SIGNAL = {  # "no mobile signal at home, calls drop": connectivity too, another complaint
    "g-en1": "No mobile signal at home at all, calls drop after a few seconds.",
    "g-en2": "My phone shows zero bars in my flat, I can't make a call.",
    "g-en3": "Calls keep dropping, there is no network coverage in our district.",
    "g-en4": "No cell signal indoors, every call cuts off mid-sentence.",
    "g-ru1": "Дома совсем нет сигнала сотовой связи, звонки обрываются.",
    "g-ru2": "В квартире ноль делений, позвонить невозможно.",
    "g-ru3": "Звонки постоянно сбрасываются, в нашем районе нет покрытия.",
    "g-ru4": "В помещении нет связи, каждый звонок обрывается на полуслове.",
    "g-uk1": "Вдома зовсім немає сигналу мобільного зв'язку, дзвінки обриваються.",
    "g-uk2": "У квартирі нуль поділок, зателефонувати неможливо.",
    "g-uk3": "Дзвінки постійно скидаються, у нашому районі немає покриття.",
    "g-uk4": "У приміщенні немає зв'язку, кожен дзвінок обривається на півслові.",
}
POSTS = {**REFUND, **EVENING, **OTHER}
TWO_THEMES = {**REFUND, **TWICE, **EVENING, **SIGNAL, **OTHER}  # money; connectivity
THEME_WORDS = {"refund", "возврат", "повернення", "гроші", "деньги", "money", "promised",
               "internet", "интернет", "інтернет", "speed", "скорость", "швидкість", "evening",
               "вечер", "падает", "падає"}


@pytest.fixture(scope="module")
def vectors():
    """Real e5 embeddings of every post (the encoder loads once)."""
    try:
        from nlp.embeddings import Encoder

        encoder = Encoder()
    except Exception as error:  # no base model here: skip, never download
        pytest.skip(f"base encoder not available: {error}")
    texts = {**POSTS, **ADDED, **MORE_REFUND, **TWICE, **SIGNAL}
    return dict(zip(texts, encoder.encode(list(texts.values())), strict=True))


def run(posts, vectors, check=None, **kwargs):
    ids = list(posts)
    return ClusterPipeline(check=check).run(ids, [posts[i] for i in ids],
                                            embeddings=np.vstack([vectors[i] for i in ids]),
                                            **kwargs)


def cluster_of(result, mention):
    return next(c for c in result.clusters if mention in c.member_ids)


def test_planted_themes_separate_across_languages(vectors):
    result = run(POSTS, vectors)
    refund, evening = cluster_of(result, "r-en1"), cluster_of(result, "e-en1")
    assert refund.id != evening.id
    assert set(refund.member_ids) == set(REFUND)
    assert set(evening.member_ids) == set(EVENING)
    assert not set(OTHER) & (set(refund.member_ids) | set(evening.member_ids))
    assert {m.split("-")[1][:2] for m in refund.member_ids} == {"en", "ru", "uk"}
    assert set(refund.representatives) <= set(REFUND) and len(refund.representatives) == 3
    distances = [d for _, d in refund.members]
    assert distances == sorted(distances) and 0 <= distances[0] < 0.2


def test_one_theme_in_three_languages_stays_one_cluster(vectors):
    posts = {**REFUND, **MORE_REFUND, "o-1": OTHER["o-1"], "o-2": OTHER["o-2"]}
    result = run(posts, vectors)
    assert len(result.clusters) == 1
    assert set(result.clusters[0].member_ids) == set(REFUND) | set(MORE_REFUND)
    assert set(result.noise) == {"o-1", "o-2"}
    assert result.steps["check"] == "SingleThemeCheck"
    assert set(result.clusters[0].label.replace(",", " ").split()) & {
        "refund", "возврат", "повернення", "гроші", "деньги"}
    without = run(posts, vectors, check=False)  # what centring alone makes of it
    assert len(without.clusters) != 1 or len(without.noise) > 2


def test_tight_set_splits_only_into_really_different_sub_themes(vectors):
    refund, twice = [*REFUND, *MORE_REFUND], list(TWICE)
    points = np.vstack([vectors[m] for m in refund + twice])
    nothing_found = np.full(len(points), -1)
    labels = SingleThemeCheck(max_spread=0.13).check(points, nothing_found)
    assert set(labels[: len(refund)]) == {0} and set(labels[len(refund):]) == {1}
    one = SingleThemeCheck().check(points[: len(refund)], nothing_found[: len(refund)])
    assert set(one) == {0}
    diverse = np.vstack([vectors[m] for m in OTHER])
    assert set(SingleThemeCheck().check(diverse, np.full(len(OTHER), -1))) == {-1}


def test_labels_name_the_theme_not_stop_words(vectors):
    result = run(POSTS, vectors)
    stop = load_stopwords()
    for mention in ("r-en1", "e-en1"):
        cluster = cluster_of(result, mention)
        words = {w for term, _ in cluster.terms for w in term.split()}
        assert not words & stop
        assert set(cluster.label.replace(",", " ").split()) & THEME_WORDS, cluster.label
    assert set(cluster_of(result, "r-en1").label.replace(",", " ").split()) & {
        "refund", "возврат", "повернення", "гроші", "деньги"}


def test_ids_stay_stable_when_a_few_mentions_are_added(vectors):
    first = run(POSTS, vectors)
    again = run({**POSTS, **ADDED}, vectors, previous=first.clusters)
    assert cluster_of(again, "r-en5").id == cluster_of(first, "r-en1").id
    assert cluster_of(again, "e-ru5").id == cluster_of(first, "e-en1").id
    assert len({c.id for c in again.clusters}) == len(again.clusters)


def test_two_planted_themes_in_three_languages_stay_two_themes_with_sub_themes(vectors):
    result = run(TWO_THEMES, vectors)
    themes = {t.id: set(t.member_ids) for t in result.themes}
    money = next(t for t in result.themes if "r-en1" in t.member_ids)
    connectivity = next(t for t in result.themes if "e-en1" in t.member_ids)
    assert len(themes) == 2 and money.id != connectivity.id
    assert set(REFUND) <= set(money.member_ids) <= set(REFUND) | set(TWICE)
    assert set(EVENING) <= set(connectivity.member_ids) <= set(EVENING) | set(SIGNAL)
    assert len(set(TWICE) & set(money.member_ids)) >= 10
    assert len(set(SIGNAL) & set(connectivity.member_ids)) >= 10
    for theme in (money, connectivity):
        subs = result.sub_themes(theme)
        assert len(subs) >= 2 and all(c.theme == theme.id for c in subs)
        assert set().union(*(c.member_ids for c in subs)) == set(theme.member_ids)
        assert {m.split("-")[1][:2] for m in theme.member_ids} == {"en", "ru", "uk"}
    assert not set(OTHER) & set().union(*themes.values())
    assert {c.id for c in result.clusters} & set(themes) == set()


def test_titles_are_sentences_of_members_and_key_phrases_lemmas(vectors):
    result = run(TWO_THEMES, vectors)
    for group in result.themes + result.clusters:
        sentences = {s for m in group.member_ids for s in theme_steps.sentences(TWO_THEMES[m])}
        assert group.title in sentences, group.title
        assert len(group.title) <= 100 and group.terms
    money = next(t for t in result.themes if "r-en1" in t.member_ids)
    words = {w for term, _ in money.terms for w in term.split()}
    assert words & {"refund", "возврат", "повернення", "деньги", "гроші", "списать", "twice"}


def test_theme_and_cluster_ids_stay_stable_on_rerun(vectors):
    first = run(TWO_THEMES, vectors)
    again = run(TWO_THEMES, vectors, previous=first.clusters, previous_themes=first.themes)
    assert [t.id for t in again.themes] == [t.id for t in first.themes]
    assert {c.id for c in again.clusters} == {c.id for c in first.clusters}
    grown = run({**TWO_THEMES, **ADDED}, vectors, previous=first.clusters,
                previous_themes=first.themes)
    theme_of = {m: t.id for t in grown.themes for m in t.member_ids}
    assert theme_of["r-en5"] == theme_of["r-en1"] == next(
        t.id for t in first.themes if "r-en1" in t.member_ids)
    assert theme_of["e-ru5"] == next(t.id for t in first.themes if "e-en1" in t.member_ids)


def kept_ids(before, after):
    """Ids of ``before`` groups that kept their id in ``after``, and the groups that barely
    changed (the ``after`` group holding most of their members has a Jaccard index ≥ 0.8)."""
    kept, steady = set(), set()
    for group in before:
        members = set(group.member_ids)
        heir = max(after, key=lambda g: len(members & set(g.member_ids)))
        if len(members & set(heir.member_ids)) / len(members | set(heir.member_ids)) >= 0.8:
            steady.add(group.id)
            if heir.id == group.id:
                kept.add(group.id)
    return kept, steady


def test_tfidf_rerun_with_new_posts_keeps_ids_of_both_levels():
    first = ClusterPipeline(embed=TfidfEmbedder()).run(list(TWO_THEMES),
                                                       list(TWO_THEMES.values()))
    grown = {**TWO_THEMES, **ADDED}  # a new vocabulary: the TF-IDF space changes
    again = ClusterPipeline(embed=TfidfEmbedder()).run(
        list(grown), list(grown.values()), previous=first.clusters,
        previous_themes=first.themes)
    assert all(c.centroid is None for c in first.clusters + first.themes)
    for before, after in ((first.clusters, again.clusters), (first.themes, again.themes)):
        kept, steady = kept_ids(before, after)
        assert len(steady) >= len(before) - 1 and kept == steady
    assert cluster_of(again, "r-en5").id == cluster_of(first, "r-en1").id
    assert len({c.id for c in again.clusters + again.themes}) == len(again.clusters) + len(
        again.themes)


def test_rerun_over_centres_of_another_width_matches_by_members(vectors):
    first = run(TWO_THEMES, vectors)

    def stored_by_another_embedder(groups):
        return [ClusterRef(g.id, g.member_ids, g.centroid[:128]) for g in groups]

    grown = run({**TWO_THEMES, **ADDED}, vectors,
                previous=stored_by_another_embedder(first.clusters),
                previous_themes=stored_by_another_embedder(first.themes))
    for before, after in ((first.clusters, grown.clusters), (first.themes, grown.themes)):
        kept, steady = kept_ids(before, after)
        assert steady and kept == steady


def test_stored_embeddings_are_used_and_only_missing_ones_embedded(vectors):
    by_text = {text: vectors[mention] for mention, text in POSTS.items()}

    class Lookup:  # an embed step: anything with encode(texts)
        seen: list = []

        def encode(self, texts):
            self.seen.extend(texts)
            return np.vstack([by_text[t] for t in texts])

    stored = {m: vectors[m] for m in POSTS if m not in ("r-uk1", "e-en2")}
    pipeline = ClusterPipeline(embed=Lookup())
    result = pipeline.run(list(POSTS), list(POSTS.values()), embeddings=stored)
    assert sorted(Lookup.seen) == sorted([POSTS["r-uk1"], POSTS["e-en2"]])
    assert result.steps["embed"] == "precomputed + Lookup (2)"
    assert set(cluster_of(result, "r-uk1").member_ids) == set(REFUND)
    with pytest.raises(ValueError, match="384 dimensions but TfidfEmbedder"):
        ClusterPipeline(embed=TfidfEmbedder()).run(list(POSTS), list(POSTS.values()),
                                                  embeddings=stored)


def test_tfidf_fallback_runs_without_an_encoder(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise OSError("no model directory")

    monkeypatch.setattr(cluster_steps, "E5Embedder", broken)
    pipeline = ClusterPipeline()
    posts = {k: v for k, v in {**REFUND, **EVENING}.items() if "-en" in k or "-ru" in k}
    with caplog.at_level(logging.WARNING, logger="insights.cluster_steps"):
        result = pipeline.run(list(posts), list(posts.values()))
    assert isinstance(pipeline.embed, TfidfEmbedder)
    assert result.steps["embed"] == "TfidfEmbedder"
    assert "TF-IDF" in caplog.text and "no model directory" in caplog.text
    assert result.clusters and all(c.label for c in result.clusters)
    for cluster in result.clusters:  # no cluster mixes the two themes
        assert len({m[0] for m in cluster.member_ids}) == 1


# --------------------------------------------------------------------------- pure steps


def blobs(seed=0, per=40, dims=16):
    """Three tight groups around orthogonal directions plus six scattered points."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dims)[:3]
    points = [c + rng.normal(0, 0.05, (per, dims)) for c in centres]
    points.append(rng.normal(0, 1, (6, dims)))
    truth = np.repeat([0, 1, 2, -1], [per, per, per, 6])
    return np.vstack(points).astype(np.float32), truth


def test_average_linkage_finds_groups_and_leaves_outliers():
    points, truth = blobs()
    labels = AverageLinkage(threshold=0.5).fit_predict(points)
    for group in range(3):
        assert len(set(labels[truth == group])) == 1 and labels[truth == group][0] >= 0
    assert len(set(labels[truth >= 0])) == 3
    assert (labels[truth < 0] < 0).sum() >= 4


def test_sampled_linkage_assigns_the_rest_like_the_full_run():
    points, truth = blobs(per=400)
    full = AverageLinkage(threshold=0.5).fit_predict(points)
    sampled = AverageLinkage(threshold=0.5, max_sample=150, min_size=5).fit_predict(points)
    for group in range(3):
        assert len(set(sampled[truth == group])) == 1
    assert len(set(sampled[truth >= 0])) == 3 and len(set(full[truth >= 0])) == 3


def test_later_rounds_find_a_cluster_too_rare_for_the_first_sample():
    rng = np.random.default_rng(1)
    common = np.eye(8)[0] + rng.normal(0, 0.05, (2000, 8))
    rare = np.eye(8)[1] + rng.normal(0, 0.05, (12, 8))
    labels = AverageLinkage(threshold=0.5, max_sample=200, min_size=5).fit_predict(
        np.vstack([common, rare]))
    assert labels[-1] >= 0 and len(set(labels[-12:])) == 1 and labels[-1] != labels[0]


def test_noise_joins_a_cluster_only_when_near_it_on_average():
    points, truth = blobs()
    labels = np.where(truth >= 0, truth, -1)
    labels[[0, 40]] = -1  # two members left out by a clusterer
    far = np.zeros(16, dtype=np.float32)
    far[-1] = 1.0  # unlike every group
    absorbed = cluster_steps.absorb_noise(np.vstack([points, far]), np.append(labels, -1))
    assert absorbed[0] == 0 and absorbed[40] == 1 and absorbed[-1] == -1


def test_steps_swap_for_scikit_learn_ones():
    cluster = pytest.importorskip("sklearn.cluster")
    points, _ = blobs()
    ids = [f"m{i}" for i in range(len(points))]
    hdbscan = cluster.HDBSCAN(min_cluster_size=5, copy=True)
    result = ClusterPipeline(reduce=False, cluster=hdbscan, absorb=None).run(ids,
                                                                          embeddings=points)
    assert result.steps == {"embed": "precomputed", "reduce": "none", "cluster": "HDBSCAN",
                            "check": "SingleThemeCheck", "merge": "CentroidMerge",
                            "label": "none"}
    assert sorted(c.size for c in result.clusters) == [40, 40, 40]
    assert all(c.label == "" and c.terms == () for c in result.clusters)


def test_pca_reducer_handles_fewer_posts_than_dimensions():
    points, _ = blobs(per=5)
    reduced = PCAReducer(100).fit_transform(points)
    assert reduced.shape == points.shape
    assert np.allclose(np.linalg.norm(reduced, axis=1), 1, atol=1e-5)
    assert PCAReducer(4).fit_transform(points).shape == (len(points), 4)


def test_class_tfidf_prefers_cluster_words_and_joins_inflections():
    texts = ["возврат денег задерживают", "возврата денег нет", "жду возврата денег",
             "интернет пропал вечером", "вечером нет интернета", "интернет вечером падает"]
    terms = ClassTfidfLabeler().label(texts, np.array([0, 0, 0, 1, 1, 1]))
    assert terms[0][0][0] in {"возврат", "деньги", "возврата денег"}  # lemmas, a pair as written
    assert {t for t, _ in terms[1][:3]} & {"интернет", "вечером"}
    assert all("нет" not in t.split() for t, _ in terms[0] + terms[1])


def test_label_from_terms_skips_repeated_words():
    terms = [("refund", 0.5), ("refund status", 0.4), ("status", 0.3), ("money", 0.2),
             ("bank", 0.1)]
    assert label_from_terms(terms) == "refund status, money, bank"


# --------------------------------------------------------------------------- matching


def cluster(cid, members, centroid=None):
    return Cluster(cid, "", (), tuple((m, 0.0) for m in members), (), centroid)


def test_match_keeps_ids_by_member_overlap():
    old = [ClusterRef("A", ["1", "2", "3", "4"]), ClusterRef("B", ["5", "6", "7"])]
    new = [cluster("x", ["5", "6", "7", "8"]), cluster("y", ["1", "2", "3"]),
           cluster("z", ["9", "10", "11"])]
    matched = match_clusters(old, new)
    assert [c.id for c in matched] == ["B", "A", "z"]


def test_match_below_jaccard_gets_a_fresh_unique_id():
    old = [ClusterRef("A", ["1", "2", "3", "4", "5", "6", "7", "8"])]
    new = [cluster("A", ["1", "20", "21", "22"])]  # overlap 1/11; hash clashes with "A"
    matched = match_clusters(old, new)
    assert matched[0].id == "A-2"


def test_match_credits_unseen_members_to_the_nearest_old_centre():
    east, west = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    old = [ClusterRef("A", ["1", "2"], east), ClusterRef("B", ["3", "4"], west)]
    grown = cluster("x", ["1", "n1", "n2", "n3", "n4"], np.array([0.99, 0.1, 0.0]))
    assert match_clusters(old, [grown])[0].id == "A"  # (1 + 4) / 6
    assert match_clusters(old, [grown], min_similarity=0.999)[0].id == "x"  # 1 / 6


def test_match_ignores_old_centres_of_another_width():
    old = [ClusterRef("A", ["1", "2", "3"], np.array([1.0, 0.0, 0.0])),
           ClusterRef("B", ["4", "5", "6"], np.array([0.0, 1.0, 0.0]))]
    new = [cluster("x", ["4", "5", "6", "n1"], np.array([0.0, 1.0])),
           cluster("y", ["1", "2", "n2", "n3", "n4", "n5"], np.array([1.0, 0.0]))]
    assert [c.id for c in match_clusters(old, new)] == ["B", "y"]  # y: 2 / 7, members alone


def test_new_cluster_id_is_deterministic():
    assert new_cluster_id(["b", "a", "c"]) == new_cluster_id(["c", "b", "a"])
    assert new_cluster_id(["a"]) != new_cluster_id(["b"])


def test_records_match_the_store_schema():
    c = Cluster("c1", "refund", (("refund", 0.5),), (("m1", 0.01), ("m2", 0.2)), ("m1",),
                np.array([0.6, 0.8], dtype=np.float32), "Where is my refund?", "t1")
    assert c.record() == {"id": "c1", "label": "refund", "title": "Where is my refund?",
                          "size": 2, "terms": [["refund", 0.5]], "parent_id": "t1",
                          "details": {"representatives": ["m1"], "centroid": [0.6, 0.8]}}
    assert [r["representative"] for r in c.member_records()] == [1, 0]
    ref = ClusterRef.from_record(c.record(), c.member_ids)
    assert ref.id == "c1" and np.allclose(ref.centroid, c.centroid)


def test_cluster_trend_counts_this_and_the_previous_period():
    now = datetime(2026, 10, 15, 12, tzinfo=UTC)
    dates = ["2026-10-15T11:00:00+00:00", "2026-10-10T00:00:00Z", "2026-10-08T13:00:00",
             datetime(2026, 10, 5, tzinfo=UTC), "2026-09-01T00:00:00+00:00"]
    trend = cluster_trend(dates, now)
    assert (trend.current, trend.previous, trend.change) == (3, 1, 2)
    assert trend.ratio == 3.0
    assert cluster_trend([], now).ratio is None
