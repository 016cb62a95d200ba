"""The bundled sample forum (demo/): served on 127.0.0.1 and read with the phpBB selectors."""

from __future__ import annotations

import copy
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from scrapy.http import HtmlResponse

from demo.phpbb import GUEST_ID, build_forum, render_board, render_topic
from demo.site import SAMPLE_FILE, load_sample, start_server

# The phpBB selectors the forum spider uses (crawlers/engines.yaml), fixed by the brief.
PHPBB = {
    "topic_link": "ul.topiclist.topics dt a.topictitle::attr(href)",
    "topic_replies": "dd.posts::text",
    "board_next": ".pagination li.next a::attr(href), .pagination a[rel=next]::attr(href)",
    "topic_title": "h2.topic-title a::text, h2.topic-title::text",
    "post": "div.post",
    "permalink": "h3 a[href*='#p']::attr(href), p.author a[href*='#p']::attr(href)",
    "author": "p.author .username::text, p.author .username-coloured::text",
    "author_url": "p.author a.username::attr(href), p.author a.username-coloured::attr(href)",
    "date": "p.author time::attr(datetime)",
    "body": "div.content",
    "quote": "blockquote",
    "quote_author": "cite::text, cite a::text",
    "edited": "div.notice::text",
    "topic_next": ".pagination li.next a::attr(href), .pagination a[rel=next]::attr(href)",
}
QUOTE_AUTHOR = re.compile(
    r"^\s*(.+?)\s+(?:wrote|писал|писала|написал|написала|писав|написав)\b", re.IGNORECASE)
LONG_TOPIC, EDITED_POST, SCRIPT_POST, NESTED_QUOTE_POST = 9, 2332, 2324, 2340

# Never through a proxy: everything here talks to 127.0.0.1 only.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(url: str) -> tuple[int, dict, bytes]:
    try:
        with _opener.open(url, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def get(url: str) -> HtmlResponse:
    """A page as Scrapy would see it (charset from the Content-Type header)."""
    status, headers, body = fetch(url)
    assert status == 200, url
    return HtmlResponse(url, body=body, headers={"Content-Type": headers["Content-Type"]})


def read_topic(url: str) -> list[dict]:
    """Every post of a topic, following its pages, read as the spider reads them."""
    posts = []
    while url:
        response = get(url)
        title = response.css(PHPBB["topic_title"]).get().strip()
        thread = parse_qs(urlsplit(url).query)["t"][0]
        for post in response.css(PHPBB["post"]):
            author_url = post.css(PHPBB["author_url"]).get()
            quotes = [QUOTE_AUTHOR.match(" ".join(q.css(PHPBB["quote_author"]).getall()))
                      for q in post.css(PHPBB["body"]).css(PHPBB["quote"])]
            posts.append({
                "url": response.urljoin(post.css(PHPBB["permalink"]).get()),
                "title": title,
                "thread": thread,
                "author": post.css(PHPBB["author"]).get(),
                "author_url": response.urljoin(author_url) if author_url else None,
                "date": post.css(PHPBB["date"]).get(),
                "text": " ".join(post.css(PHPBB["body"] + " ::text").getall()),
                "quote_authors": [match.group(1) if match else None for match in quotes],
                "edited": " ".join(post.css(PHPBB["edited"]).getall()).strip(),
            })
        next_page = response.css(PHPBB["topic_next"]).get()
        url = response.urljoin(next_page) if next_page else None
    return posts


@pytest.fixture(scope="module")
def site():
    server, base_url = start_server()
    yield server, base_url + "/forum/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def forum():
    return load_sample()


def test_sample_content_has_the_promised_shape(forum):
    posts = list(forum.posts.values())
    assert [board.id for board in forum.boards] == [1, 2]
    assert len(forum.topics) == 8 and len(posts) == 45
    assert len({post.author for post in posts}) >= 15
    assert len(forum.board(1).topics) > 5
    assert [t.id for t in forum.topics.values() if len(t.posts) > 10] == [LONG_TOPIC]
    assert all("2026-09-01" <= post.time.isoformat() < "2026-12-01" for post in posts)
    quoting = [post for post in posts if post.quotes]
    assert len(quoting) >= 3
    assert forum.posts[NESTED_QUOTE_POST].quotes[0].quotes
    assert [post.id for post in posts if post.edited] == [EDITED_POST]
    assert any(post.user_id == GUEST_ID for post in posts)
    everything = "\n".join(post.text for post in posts)
    for phrase in ("в Волне", "Волной", "Вольною", "Теленову", "ухожу к Теленове",
                   "Рекомендую Волну", "раджу", "Highly recommend Volna", "😡", "<script>"):
        assert phrase.lower() in everything.lower(), phrase


def test_bad_sample_data_is_rejected():
    data = yaml.safe_load(SAMPLE_FILE.read_text(encoding="utf-8"))
    build_forum(copy.deepcopy(data))

    def broken(change):
        changed = copy.deepcopy(data)
        change(changed["boards"][0]["topics"][1]["posts"])
        with pytest.raises(ValueError):
            build_forum(changed)

    broken(lambda posts: posts[3]["quotes"][0].update(text="words nobody wrote"))
    broken(lambda posts: posts[3]["quotes"][0].update(author="someone_else"))
    broken(lambda posts: posts[1].update(id=posts[0]["id"]))
    broken(lambda posts: posts[0].update(author="not_the_user"))
    broken(lambda posts: posts[0].update(time="2026-09-07T08:14:00"))


def test_render_refuses_pages_that_do_not_exist(forum):
    with pytest.raises(ValueError):
        render_topic(forum.topics[LONG_TOPIC], 3)
    with pytest.raises(ValueError):
        render_board(forum.board(2), 2)


def test_index_lists_both_boards(site, forum):
    _, base = site
    response = get(base + "index.php")
    assert response.css("a.forumtitle::attr(href)").getall() == [
        "./viewforum.php?f=1", "./viewforum.php?f=2"]
    assert response.css("a.forumtitle::text").getall() == [b.title for b in forum.boards]
    assert get(base).css("a.forumtitle::attr(href)").getall()  # /forum/ is the index too


def test_board_pages_list_topics_and_link_to_the_next(site, forum):
    _, base = site
    first = get(base + "viewforum.php?f=1")
    links = first.css(PHPBB["topic_link"]).getall()
    assert len(links) == 5
    assert links[0] == "./viewtopic.php?t=18"  # most recently active first, as phpBB sorts
    assert first.css(PHPBB["board_next"]).get() == "./viewforum.php?f=1&start=5"
    second = get(first.urljoin(first.css(PHPBB["board_next"]).get()))
    more = second.css(PHPBB["topic_link"]).getall()
    assert more == ["./viewtopic.php?t=4"]
    assert second.css(PHPBB["board_next"]).get() is None
    assert second.css(".pagination li.previous a::attr(href)").get() == "./viewforum.php?f=1"
    found = {int(parse_qs(urlsplit(link).query)["t"][0]) for link in links + more}
    assert found == {topic.id for topic in forum.board(1).topics}
    # As on real prosilver, the header row has a dd.posts too: scope replies to a topic row.
    assert first.css(PHPBB["topic_replies"]).get().strip() == "Replies"
    replies = [int(row.css(PHPBB["topic_replies"]).get()) for row in first.css("li.row")]
    assert replies == [4, 11, 4, 4, 4]


def test_long_topic_has_two_pages(site, forum):
    _, base = site
    first = get(base + f"viewtopic.php?t={LONG_TOPIC}")
    assert len(first.css(PHPBB["post"])) == 10
    assert first.css(PHPBB["topic_next"]).get() == f"./viewtopic.php?t={LONG_TOPIC}&start=10"
    second = get(first.urljoin(first.css(PHPBB["topic_next"]).get()))
    assert len(second.css(PHPBB["post"])) == 2
    assert second.css(PHPBB["topic_next"]).get() is None
    assert second.css(PHPBB["topic_title"]).get().strip() == forum.topics[LONG_TOPIC].title
    # The board lists the topic's pages too, without a "next" arrow that a spider could follow.
    board = get(base + "viewforum.php?f=1")
    row = board.xpath(f"//li[.//a[@href='./viewtopic.php?t={LONG_TOPIC}']]")
    assert row.css(".pagination a::attr(href)").getall() == [
        f"./viewtopic.php?t={LONG_TOPIC}", f"./viewtopic.php?t={LONG_TOPIC}&start=10"]
    assert not row.css(PHPBB["board_next"]).getall()


def test_board_two_is_served_in_windows_1251(site):
    _, base = site
    texts = []
    for path in ("viewforum.php?f=2", "viewtopic.php?t=19", "viewtopic.php?t=14"):
        status, headers, body = fetch(base + path)
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=windows-1251"
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        texts.append(body.decode("cp1251"))
        assert '<meta charset="windows-1251" />' in texts[-1]
    assert {"і", "ї", "є", "ґ", "Ґ"} <= set("".join(texts))
    tv = fetch(base + "viewtopic.php?t=19")[2]
    assert "Ґаджет".encode("cp1251") in tv and b"\xa5" in tv  # Ґ is 0xA5 in windows-1251
    # Characters windows-1251 lacks (emoji) travel as numeric character references.
    assert b"&#128077;" in tv
    last = get(base + "viewtopic.php?t=19").css("div.post")[-1]
    assert "👍" in "".join(last.css(PHPBB["body"] + " ::text").getall())


def test_user_written_script_is_escaped(site):
    _, base = site
    status, _, body = fetch(base + f"viewtopic.php?t={LONG_TOPIC}")
    assert status == 200
    assert b"<script>showPayButton" not in body
    assert b"&lt;script&gt;showPayButton(&#x27;refund&#x27;)&lt;/script&gt;" in body
    response = get(base + f"viewtopic.php?t={LONG_TOPIC}")
    assert not response.css("script")
    post = response.css(f"div#p{SCRIPT_POST}")
    assert "<script>showPayButton('refund')</script>" in "".join(
        post.css(PHPBB["body"] + " ::text").getall())


def test_selectors_read_every_post_as_written(site, forum):
    _, base = site
    for topic in forum.topics.values():
        read = read_topic(base + f"viewtopic.php?t={topic.id}")
        assert [p["url"] for p in read] == [
            f"{base}viewtopic.php?p={post.id}#p{post.id}" for post in topic.posts]
        for got, post in zip(read, topic.posts, strict=True):
            assert got["title"] == topic.title
            assert got["thread"] == str(topic.id)
            assert got["author"] == post.author
            assert got["date"] == post.time.isoformat()
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", got["date"])
            if post.user_id == GUEST_ID:
                assert got["author_url"] is None
            else:
                assert got["author_url"] == (
                    f"{base}memberlist.php?mode=viewprofile&u={post.user_id}")
            expected = []
            for quote in post.quotes:
                expected += [quote.author] + [inner.author for inner in quote.quotes]
            assert got["quote_authors"] == expected
            assert post.text.split("\n")[0][:30] in got["text"]
            assert bool(got["edited"]) == (post.id == EDITED_POST)


def test_quotes_render_as_phpbb_does(site):
    _, base = site
    response = get(base + f"viewtopic.php?p={NESTED_QUOTE_POST}")
    body = response.css(f"div#p{NESTED_QUOTE_POST} div.content")
    outer = body.xpath("./blockquote")
    assert len(outer) == 1 and len(body.css("blockquote")) == 2
    assert outer.css("cite a::attr(href)").getall()[:2] == [
        "./memberlist.php?mode=viewprofile&u=23", "./viewtopic.php?p=2319#p2319"]
    assert "".join(outer.xpath("./div/cite//text()").getall()).startswith("marina_89 wrote: ↑")
    assert outer.css("cite span.responsive-hide::text").get() == "Fri Sep 18, 2026 7:44 pm"
    assert outer.xpath("./div/blockquote/div/text()").get().startswith("Срок зачисления")
    # A quote of something that is not a post here: the name is plain cite text.
    chat = read_topic(base + "viewtopic.php?t=18")[0]
    assert chat["quote_authors"] == ["Чат поддержки Волны"]
    # Board 2 speaks Ukrainian: "написав(ла):".
    petro = [p for p in read_topic(base + "viewtopic.php?t=14") if p["quote_authors"]]
    assert petro[0]["quote_authors"] == ["Volna_Support"]
    assert "написав(ла):" in get(base + "viewtopic.php?t=14").text


def test_edit_notice(site):
    _, base = site
    response = get(base + f"viewtopic.php?p={EDITED_POST}")
    post = response.css(f"div#p{EDITED_POST}")
    edited = " ".join(post.css(PHPBB["edited"]).getall())
    assert "Last edited by" in edited and "edited 1 time in total." in edited
    assert "Wed Sep 23, 2026 6:20 pm" in edited
    # As in phpBB, the editor's name is a profile link and the reason sits in <em>.
    assert post.css("div.notice a.username::text").get() == "marina_89"
    assert post.css("div.notice em::text").get() == "дату поправила"
    assert len(response.css("div.notice")) == 1


def test_post_permalink_shows_the_page_holding_it(site):
    _, base = site
    response = get(base + "viewtopic.php?p=2358")
    assert [p.attrib["id"] for p in response.css(PHPBB["post"])] == ["p2340", "p2358"]
    assert response.css(".pagination li.active span::text").get() == "2"


@pytest.mark.parametrize(("start", "ids"), [("500", ["p2340", "p2358"]), ("-5", None),
                                            ("x", None), ("13", ["p2340", "p2358"])])
def test_start_is_clamped_like_phpbb(site, start, ids):
    _, base = site
    response = get(base + f"viewtopic.php?t={LONG_TOPIC}&start={start}")
    got = [p.attrib["id"] for p in response.css(PHPBB["post"])]
    if ids:
        assert got == ids
    else:
        assert len(got) == 10 and got[0] == "p2312"


def test_profile_and_robots(site):
    server, base = site
    profile = get(base + "memberlist.php?mode=viewprofile&u=23")
    assert profile.css("h2.memberlist-title::text").get() == "Viewing profile - marina_89"
    root = base.removesuffix("forum/")
    status, headers, body = fetch(root + "robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert body.decode() == "User-agent: *\nDisallow: /forum/ucp.php\n"


@pytest.mark.parametrize("path", [
    "/", "/index.php", "/forum/ucp.php?mode=login", "/forum/viewtopic.php?t=999",
    "/forum/viewtopic.php?t=abc", "/forum/viewtopic.php", "/forum/viewtopic.php?p=1",
    "/forum/viewforum.php?f=9", "/forum/viewforum.php", "/forum/memberlist.php",
    "/forum/memberlist.php?mode=viewprofile&u=1", "/forum/memberlist.php?mode=viewprofile&u=999",
    "/forum/posting.php?mode=reply&t=9", "/forum/styles/prosilver/theme/stylesheet.css",
])
def test_unknown_paths_are_404(site, path):
    _, base = site
    status, headers, body = fetch(base.removesuffix("/forum/") + path)
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    assert b'class="message-title"' in body


def test_walking_the_site_like_the_spider_finds_every_post(forum):
    server, base_url = start_server()
    try:
        boards = [f"{base_url}/forum/viewforum.php?f={board.id}" for board in forum.boards]
        posts = []
        for url in boards:
            while url:
                response = get(url)
                for link in response.css(PHPBB["topic_link"]).getall():
                    posts += read_topic(response.urljoin(link))
                next_page = response.css(PHPBB["board_next"]).get()
                url = response.urljoin(next_page) if next_page else None
        assert len({post["url"] for post in posts}) == len(posts) == 45
        assert sum(server.hits.values()) == 2 + 1 + 8 + 1  # board pages, topic pages
        assert server.hits["/forum/viewforum.php?f=1&start=5"] == 1
        assert server.hits[f"/forum/viewtopic.php?t={LONG_TOPIC}&start=10"] == 1
        assert all(hits == 1 for hits in server.hits.values())
    finally:
        server.shutdown()
        server.server_close()


def test_hits_are_counted_under_concurrent_requests():
    server, base_url = start_server()
    try:
        threads = [threading.Thread(target=fetch, args=(f"{base_url}/forum/index.php",))
                   for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        fetch(base_url + "/nowhere")
        assert server.hits == {"/forum/index.php": 20, "/nowhere": 1}
    finally:
        server.shutdown()
        server.server_close()


def test_server_binds_to_loopback_only():
    with pytest.raises(ValueError):
        start_server(host="0.0.0.0")
    server, base_url = start_server()
    try:
        assert server.server_address[0] == "127.0.0.1"
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
    finally:
        server.shutdown()
        server.server_close()
