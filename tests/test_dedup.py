import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

import store
from crawlers.dedup import THRESHOLD, band_keys, signature, similarity
from crawlers.items import Mention
from crawlers.pipelines import DedupPipeline, StorePipeline, clean_mention

PROMO = ("Всем привет! Волна дарит 50 ГБ интернета новым абонентам, переходите по ссылке "
         "и подключайте тариф Volna Smart прямо сейчас, акция до конца месяца")
PROMO_AGAIN = ("Всем привет!! Волна дарит 50 ГБ интернета новым абонентам, переходите по "
               "ссылке и подключайте тариф Volna Smart прямо сейчас, акция до конца ноября")
COMPLAINT = ("Третий день нет интернета в Сихове, Volna Home молчит, поддержка обещает "
             "перезвонить, но никто не звонит уже третьи сутки подряд")
UK = ("Вже третій день немає інтернету на Сихові, Volna Home мовчить, підтримка обіцяє "
      "передзвонити, але ніхто не дзвонить")
EN = ("Volna support kept me on hold for forty minutes and then the call dropped, "
      "so I still have no refund for the double charge")


def test_near_identical_texts_are_near_duplicates():
    assert similarity(signature(PROMO), signature(PROMO_AGAIN)) >= THRESHOLD
    assert set(band_keys(signature(PROMO))) & set(band_keys(signature(PROMO_AGAIN)))


@pytest.mark.parametrize("other", [COMPLAINT, UK, EN])
def test_different_texts_are_not(other):
    assert similarity(signature(PROMO), signature(other)) < 0.3


def test_short_texts_have_no_signature():
    assert signature("Спасибо, помогло!") is None
    assert signature("+1 у меня так же") is None


@pytest.fixture
def pipelines(db_path):
    crawler = get_crawler(settings_dict={"OTKLIK_DB": str(db_path)})
    dedup = build_from_crawler(DedupPipeline, crawler)
    saver = build_from_crawler(StorePipeline, crawler)
    dedup.open_spider()
    saver.open_spider()
    yield crawler, dedup, saver
    dedup.close_spider()
    saver.close_spider()


def _through(pipes, mention):
    _, dedup, saver = pipes
    return saver.process_item(dedup.process_item(clean_mention(mention)))


def test_cross_post_is_stored_and_marked(pipelines, db_path):
    first = _through(pipelines, Mention(source="forum", url="https://f.example/p/1",
                                        text=PROMO, author_handle="promo_bot"))
    second = _through(pipelines, Mention(source="forum", url="https://f.example/p/9",
                                         text=PROMO_AGAIN, author_handle="promo_bot"))
    other = _through(pipelines, Mention(source="forum", url="https://f.example/p/3",
                                        text=COMPLAINT, author_handle="olena"))
    assert first.duplicate_of is None and other.duplicate_of is None
    assert second.duplicate_of == store.mention_id("forum", "https://f.example/p/1")
    crawler, _, saver = pipelines
    assert crawler.stats.get_value("otklik/dedup/near_duplicate") == 1
    saver.flush()
    assert crawler.stats.get_value("otklik/stored/inserted") == 3
    with store.open_db(db_path) as db:
        rows = db.execute("SELECT url, duplicate_of IS NOT NULL FROM mentions ORDER BY seq")
        assert rows.fetchall() == [("https://f.example/p/1", 0), ("https://f.example/p/9", 1),
                                   ("https://f.example/p/3", 0)]


def test_recrawl_of_the_same_post_is_not_its_own_duplicate(pipelines):
    mention = Mention(source="forum", url="https://f.example/p/1", text=PROMO)
    _through(pipelines, mention)
    _, dedup, saver = pipelines
    saver.flush()
    dedup.seen.clear()  # a later crawl
    dedup.recent.clear()
    again = _through(pipelines, Mention(source="forum", url="https://f.example/p/1", text=PROMO))
    assert again.duplicate_of is None


def test_same_url_twice_in_one_crawl_is_dropped(pipelines):
    _, dedup, _ = pipelines
    dedup.process_item(Mention(source="forum", url="https://f.example/p/1", text=PROMO))
    with pytest.raises(DropItem):
        dedup.process_item(Mention(source="forum", url="https://F.example/p/1", text=PROMO))
