"""Bad bytes never overwrite good data: pages are read in their bytes' real encoding
(crawlers/encoding.py), a page nothing reads cleanly is skipped and its thread fetched again,
and the store refuses an edit that would garble a post or give it another author."""

import shutil
import sqlite3
from types import SimpleNamespace

import pytest
from conftest import FIXTURES, run_crawl, write_sources
from scrapy.http import HtmlResponse, JsonResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

import store
from crawlers.encoding import BadEncoding, EncodingCheckMiddleware, choose_encoding

RU = "Третий месяц подряд списывают 149 руб. за «Кино+». В личном кабинете подписки нет."
UK = "Підтверджую, дзвінки обриваються вже тиждень. Їжак, ґанок, єдність — усе на місці."
RU_KOI8 = "Купила пакет Турция 5 ГБ за 590 руб., в Анталье интернета нет совсем. Что делать?"
EN = "Bought the “Europe 7 days” roaming pack for 199 UAH — charged twice."


def _page(text: str, meta: str = "") -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return f"<html><head>{head}<title>Volna</title></head><body><p>{text}</p></body></html>"


# ---------------------------------------------------------------------------------------------
# The decision, without Scrapy

@pytest.mark.parametrize(("text", "codec", "header"), [
    (RU, "cp1251", "windows-1251"), (UK, "cp1251", "windows-1251"), (RU_KOI8, "koi8-r", "koi8-r"),
    (UK, "utf-8", "utf-8"), (EN, "utf-8", "UTF-8"), (RU, "utf-8", "utf8"),
])
def test_a_true_declaration_is_kept(text, codec, header):
    choice = choose_encoding(_page(text).encode(codec), header)
    assert choice.encoding == codec and not choice.repaired


@pytest.mark.parametrize(("text", "codec", "header", "meta"), [
    (RU, "cp1251", "utf-8", ""),  # the measured case: windows-1251 bytes, charset=UTF-8
    (UK, "cp1251", "utf-8", ""),
    (UK, "cp1251", "utf-8", "windows-1251"),  # the page's own <meta charset> tells the truth
    (RU, "cp1251", "utf-8", "utf-8"),  # both lie
    (RU_KOI8, "koi8-r", "utf-8", ""),
    (UK, "utf-8", "windows-1251", ""),  # UTF-8 bytes under a single-byte header
    (RU, "utf-8", "iso-8859-1", ""),
    (EN, "utf-8", "windows-1251", ""),
])
def test_a_false_declaration_is_repaired(text, codec, header, meta):
    body = _page(text, meta).encode(codec)
    choice = choose_encoding(body, header)
    assert choice.repaired and choice.encoding
    assert body.decode(choice.encoding) == _page(text, meta)


def test_a_true_meta_declaration_under_a_false_header_is_read_without_sniffing():
    choice = choose_encoding(_page(UK, "windows-1251").encode("cp1251"), "utf-8")
    assert (choice.encoding, choice.repaired, choice.detail) == ("cp1251", True,
                                                                 "declared cp1251")


def test_an_undeclared_page_is_read_as_sniffed_without_counting_a_repair():
    choice = choose_encoding(_page(UK).encode("cp1251"))
    assert choice.encoding == "cp1251" and not choice.repaired
    assert choose_encoding(b"<html><body>plain</body></html>", "utf-8").encoding == "utf-8"


def test_a_byte_order_mark_wins():
    choice = choose_encoding(b"\xef\xbb\xbf" + _page(RU).encode(), "windows-1251")
    assert choice.encoding == "utf-8"


def test_a_page_nothing_reads_cleanly_gets_no_encoding():
    page = _page(f"{UK} {RU}").encode()
    mixed = page.replace(RU.encode(), RU.encode("cp1251"))  # one post's bytes in cp1251
    choice = choose_encoding(mixed, "utf-8")
    assert choice.encoding is None and "no encoding reads it cleanly" in choice.detail
    # replacement characters the server already sent are not words either
    assert choose_encoding(_page("� ������ " + UK).encode(), "utf-8").encoding is None


# ---------------------------------------------------------------------------------------------
# The downloader middleware

def _middleware(spider=None):
    crawler = get_crawler()
    crawler.spider = spider
    return EncodingCheckMiddleware.from_crawler(crawler), crawler.stats


def _response(body: bytes, content_type: str = "text/html; charset=utf-8", cls=HtmlResponse,
              status: int = 200):
    url = "http://forum.test/forum/showthread.php?t=501"
    return cls(url, body=body, status=status, headers={"Content-Type": content_type},
               request=Request(url))


def test_the_middleware_reads_a_mislabelled_page_in_its_real_encoding():
    middleware, stats = _middleware()
    response = _response(_page(RU).encode("cp1251"))
    assert "\ufffd" in response.text  # what the spider would have parsed
    repaired = middleware.process_response(response.request, response)
    assert repaired.encoding == "cp1251" and RU in repaired.text
    assert stats.get_value("otklik/encoding/repaired") == 1


def test_the_middleware_passes_honest_and_non_text_pages_untouched():
    middleware, stats = _middleware()
    honest = _response(_page(UK).encode())
    assert middleware.process_response(honest.request, honest) is honest
    json = _response('{"title": "Волна"}'.encode(), "application/json", JsonResponse)
    assert middleware.process_response(json.request, json) is json
    image = _response(b"\x89PNG\r\n\x1a\n\xff\xfe", "image/png", Response)
    assert middleware.process_response(image.request, image) is image
    error = _response(b"\xff\xfe broken", status=500)  # the HTTP error is what counts
    assert middleware.process_response(error.request, error) is error
    assert stats.get_stats() == {}


def test_the_middleware_refuses_a_page_nothing_reads_and_counts_it(caplog):
    middleware, stats = _middleware()
    body = _page(f"{UK} {RU}").encode().replace(RU.encode(), RU.encode("cp1251"))
    response = _response(body)
    with pytest.raises(BadEncoding, match="no encoding reads it cleanly"):
        middleware.process_response(response.request, response)
    assert stats.get_value("otklik/encoding/undecodable") == 1
    assert f"bad encoding: {response.url}" in caplog.text


def test_a_source_forcing_its_encoding_is_left_alone():
    middleware, stats = _middleware(SimpleNamespace(forced_encoding="cp1251"))
    response = _response(_page(RU).encode("cp1251"), cls=TextResponse)
    assert middleware.process_response(response.request, response) is response
    response = _response(_page(RU).encode("cp1251"))
    assert middleware.process_response(response.request, response) is response
    assert stats.get_stats() == {}


# ---------------------------------------------------------------------------------------------
# The store refuses garbling edits and author swaps

def test_the_store_refuses_an_edit_that_garbles_the_words(db, make_mention):
    good = make_mention(text=RU, title="Списания за «Кино+»")
    assert store.upsert_mention(db, good) == "inserted"
    for garbled in (
        {"text": RU.encode("cp1251").decode("utf-8", "replace")},
        {"text": RU.encode().decode("cp1251")},
        {"title": "Списания за «Кино+»".encode().decode("cp1252", "replace")},
        {"quotes": [{"author": None, "text": "� ������"}]},
    ):
        assert store.upsert_mention(db, {**good, **garbled}) == "refused"
    row = db.execute("SELECT text, title, quotes, version FROM mentions").fetchone()
    assert row == (RU, "Списания за «Кино+»", "[]", 1)
    assert db.execute("SELECT count(*) FROM mention_history").fetchone()[0] == 0
    # a real edit still goes through
    assert store.upsert_mention(db, {**good, "text": RU + " UPD: вернули."}) == "updated"


def test_the_store_refuses_an_edit_naming_another_author(db, make_mention):
    good = make_mention(text=UK)
    store.upsert_mention(db, good)
    garbled_name = "Иван".encode("cp1251").decode("utf-8", "replace")  # "����"
    swapped = {**good, "text": UK + " (змінено)", "author_handle": garbled_name}
    assert store.upsert_mentions(db, [swapped]) == {"refused": 1}
    assert db.execute("SELECT a.handle, m.text FROM mentions m JOIN authors a "
                      "ON a.id = m.author_id").fetchone() == ("ivan_petrov", UK)
    # the refused edit leaves no author behind
    assert [h for (h,) in db.execute("SELECT handle FROM authors")] == ["ivan_petrov"]
    # a store damaged before keeps healing: a garbled author gives way to the readable one
    damaged = make_mention(url="https://forum.example.com/viewtopic.php?p=12#p12",
                           text="Под".encode().decode("cp1251"), author_handle=garbled_name)
    store.upsert_mention(db, damaged)
    assert store.upsert_mention(db, {**damaged, "text": "Под", "author_handle": "olga"}) \
        == "updated"
    assert db.execute("SELECT a.handle, m.text FROM mentions m JOIN authors a ON "
                      "a.id = m.author_id WHERE m.url LIKE '%p=12%'").fetchone() == ("olga", "Под")
    # an anonymous post gaining a name is no swap
    anonymous = make_mention(url="https://forum.example.com/viewtopic.php?p=11#p11",
                             author_handle=None)
    store.upsert_mention(db, anonymous)
    assert store.upsert_mention(db, {**anonymous, "text": "Edited", "author_handle": "olga"}) \
        == "updated"


def test_an_edit_without_a_date_keeps_the_stored_one(db, make_mention):
    good = make_mention()
    store.upsert_mention(db, good)
    assert store.upsert_mention(db, {**good, "text": "Новый текст", "published_at": None}) \
        == "updated"
    assert db.execute("SELECT published_at FROM mentions").fetchone()[0] == good["published_at"]


# ---------------------------------------------------------------------------------------------
# Real crawls of a vBulletin board (windows-1251) that starts lying about its charset

BOARD = "/forum/forumdisplay.php?f=7"
TOPIC_PAGE_2 = "forum/showthread.php@t=501&page=2"
EDITED, NEW = "p=5002#post5002", "p=5006#post5006"


def _layer(folder, charset=None, broken=()):
    """The vBulletin board after a reply and an edit (the ``later`` layer over ``first``),
    copied into ``folder``: with ``charset``, every page's header claims it; the pages in
    ``broken`` get one post's words in windows-1251 inside UTF-8 bytes."""
    for layer in ("first", "later"):
        shutil.copytree(FIXTURES / "vbulletin" / layer, folder, dirs_exist_ok=True)
    for page in folder.rglob("*"):
        if charset and page.name.endswith(".headers"):
            page.write_text(f"Content-Type: text/html; charset={charset}")
    for name in broken:
        page = folder / name
        text = page.read_bytes().decode("cp1251")
        tail = text[text.index("Итог"):text.index("Итог") + 20]
        body = text.encode().replace(tail.encode(), tail.encode("cp1251"))
        page.write_bytes(body)
        page.with_name(page.name + ".headers").write_text("Content-Type: text/html; "
                                                          "charset=utf-8")
    return folder


def _board(tmp_path, server):
    source = {"id": "board", "kind": "forum", "url": f"{server.base_url}/forum/",
              "since_days": 36500, "options": {"engine": "vbulletin",
                                               "boards": ["forumdisplay.php?f=7"],
                                               "timezone": "Europe/Moscow"}}
    return write_sources(tmp_path / "sources.yaml", source)


def _stored(db_path):
    with sqlite3.connect(db_path) as db:
        rows = db.execute("""SELECT m.url, m.text, m.title, a.handle, m.version, m.published_at
                             FROM mentions m LEFT JOIN authors a ON a.id = m.author_id""")
        stored = {url.split("?", 1)[1]: tuple(rest) for url, *rest in rows}
        handles = {handle for (handle,) in db.execute("SELECT handle FROM authors")}
    return stored, handles


def _stats(db_path):
    with store.open_db(db_path) as db:
        return store.last_runs(db)[0]["stats"]


def _crawl(sources, db_path, *extra):
    result = run_crawl(sources, db_path, jobs=False, extra=extra)
    assert result.returncode == 0, result.stderr
    return result


def test_a_board_mislabelled_as_utf8_on_a_recrawl_keeps_every_post_readable(
        fixture_server, tmp_path):
    server = fixture_server(FIXTURES / "vbulletin" / "first")
    sources, db_path = _board(tmp_path, server), tmp_path / "crawl.db"
    _crawl(sources, db_path)
    before, authors = _stored(db_path)

    server.layers = [_layer(tmp_path / "lying", charset="utf-8")]
    server.hits.clear()
    again = _crawl(sources, db_path)
    after, authors_after = _stored(db_path)
    assert "board: 1 new, 1 edited," in again.stdout and "refused" not in again.stdout
    pages = [target for target in server.hits if target != "/robots.txt"]
    assert BOARD in pages and len(pages) >= 3  # the board and both pages of the long topic
    assert _stats(db_path)["otklik/encoding/repaired"] == len(pages)
    assert authors_after == authors
    for key, (text, title, handle, version, published) in before.items():
        if key != EDITED:
            assert after[key] == (text, title, handle, version, published)
    assert after[EDITED][0].endswith("UPD: после претензии вернули всё.")
    assert after[EDITED][1:3] == before[EDITED][1:3] and after[EDITED][3] == 2
    assert after[NEW][:3] == ("Итог: вернули 447 руб., подписку заблокировали по заявлению.",
                              "Волна списывает за «Кино+», хотя я не подключал", "irina_v")


def test_without_the_encoding_check_the_store_still_refuses_to_garble_posts(
        fixture_server, tmp_path):
    server = fixture_server(FIXTURES / "vbulletin" / "first")
    sources, db_path = _board(tmp_path, server), tmp_path / "crawl.db"
    _crawl(sources, db_path)
    before, _ = _stored(db_path)

    server.layers = [_layer(tmp_path / "lying", charset="utf-8")]
    off = '{"crawlers.encoding.EncodingCheckMiddleware": null}'
    again = _crawl(sources, db_path, "--set", f"DOWNLOADER_MIDDLEWARES={off}")
    after, _ = _stored(db_path)
    refused = _stats(db_path)["otklik/stored/refused"]
    assert refused >= 6 and f"{refused} refused" in again.stdout  # every post of the topic
    assert {key: after[key] for key in before} == before


def test_an_undecodable_page_is_skipped_counted_and_its_thread_fetched_again(
        fixture_server, tmp_path):
    server = fixture_server(FIXTURES / "vbulletin" / "first")
    sources, db_path = _board(tmp_path, server), tmp_path / "crawl.db"
    _crawl(sources, db_path)

    server.layers = [_layer(tmp_path / "broken", broken=[TOPIC_PAGE_2])]
    second = _crawl(sources, db_path)
    stats = _stats(db_path)
    skipped = {key: value for key, value in stats.items() if key.startswith("otklik/skipped/")}
    # the board's broken topic (a page cut short) is skipped on every crawl
    assert skipped == {"otklik/skipped/bad_encoding": 1, "otklik/skipped/truncated_page": 1}
    assert stats["otklik/encoding/undecodable"] == 1
    assert "board: 0 new, 1 edited, 2 unchanged, 2 skipped," in second.stdout
    assert "bad encoding: " in second.stderr and "showthread.php?t=501&page=2" in second.stderr
    stored, _ = _stored(db_path)
    assert NEW not in stored

    server.layers = [_layer(tmp_path / "mended")]
    server.hits.clear()
    third = _crawl(sources, db_path)
    assert "/forum/showthread.php?t=501&page=2" in server.hits  # looked at again
    assert "board: 1 new," in third.stdout
    stored, _ = _stored(db_path)
    assert stored[NEW][0] == "Итог: вернули 447 руб., подписку заблокировали по заявлению."
