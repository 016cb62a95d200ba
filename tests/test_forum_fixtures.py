"""Forum engines in many versions and styles (tests/fixtures/engines, written from each
engine's own templates): read by structure alone, by the full reading, and by a real crawl
that is not told the engine."""

import pytest
from conftest import run_crawl, write_sources
from engine_fixtures import ENGINES, expected, read_style, score, styles

import store

STYLES = styles()


def test_there_are_at_least_fifteen_engine_styles():
    assert len(STYLES) >= 15
    assert len({expected(style)["engine"] for style in STYLES}) >= 9


@pytest.mark.parametrize("style", STYLES)
def test_the_structure_alone_reads_the_topic(style):
    posts, strategies = read_style(style, use_selectors=False)
    result = score(style, posts)
    assert set(strategies) == {"structure"}
    assert result.found == result.expected, result.misses
    assert result.share_right >= 0.95, result.misses


def test_the_structure_alone_reads_nineteen_posts_in_twenty_overall():
    results = [score(style, read_style(style, use_selectors=False)[0]) for style in STYLES]
    right, total = sum(r.right for r in results), sum(r.expected for r in results)
    assert right / total >= 0.95, (right, total)


@pytest.mark.parametrize("style", STYLES)
def test_the_full_reading_is_never_worse_than_the_structure(style):
    alone = score(style, read_style(style, use_selectors=False)[0])
    full = score(style, read_style(style, use_selectors=True)[0])
    assert full.right >= alone.right, full.misses


@pytest.mark.parametrize("style", STYLES)
def test_a_crawl_not_told_the_engine_stores_every_post(fixture_server, tmp_path, style):
    spec = expected(style)
    server = fixture_server(ENGINES / style)
    options = {"boards": [spec["board"]], "timezone": spec["timezone"]}
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "forum", "kind": "forum", "url": f"{server.base_url}/", "since_days": 36500,
        "options": options})
    db_path = tmp_path / "crawl.db"
    crawled = run_crawl(sources, db_path, jobs=False)
    assert crawled.returncode == 0, crawled.stderr[-2000:]
    with store.open_db(db_path) as db:
        rows = db.execute("""SELECT m.url, a.handle, m.kind FROM mentions m
                             LEFT JOIN authors a ON a.id = m.author_id""").fetchall()
        runs = store.last_runs(db)
    by_id = {}
    for item in spec["posts"]:
        match = [row for row in rows if str(item["id"]) in row[0]]
        assert match, f"post {item['id']} was not stored"
        by_id[str(item["id"])] = match[0]
    authors_right = sum(by_id[str(i["id"])][1] == i["author"] for i in spec["posts"])
    assert authors_right >= len(spec["posts"]) - 1, rows
    first = spec["posts"][0]
    assert by_id[str(first["id"])][2] == "post"
    assert {by_id[str(i["id"])][2] for i in spec["posts"][1:]} == {"reply"}
    engine_counts = [key for key in runs[0]["stats"] if key.startswith("otklik/engine/")]
    assert engine_counts, "the engine (or its absence) is recorded"


def test_a_recrawl_of_an_unchanged_subsilver_board_fetches_no_topic_again(fixture_server,
                                                                          tmp_path):
    """The style's navigation block looks like a post to phpBB's selectors; it must not make
    the topic incomplete, or every crawl would fetch every topic again."""
    style = "phpbb30-subsilver2"
    spec = expected(style)
    server = fixture_server(ENGINES / style)
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "forum", "kind": "forum", "url": f"{server.base_url}/", "since_days": 36500,
        "options": {"engine": "phpbb", "boards": [spec["board"]],
                    "timezone": spec["timezone"]}})
    db_path = tmp_path / "crawl.db"
    assert run_crawl(sources, db_path, jobs=False).returncode == 0
    topic = "/" + spec["topics"][0]
    assert server.hits[topic] == 1
    again = run_crawl(sources, db_path, jobs=False)
    assert again.returncode == 0, again.stderr
    assert server.hits[topic] == 1, "the unchanged topic was fetched again"
    assert server.hits["/" + spec["board"]] == 2


@pytest.mark.parametrize("style", ["xenforo2", "ipb3", "vbulletin3"])
def test_a_reply_quoting_a_post_of_its_page_names_it_as_parent(style):
    posts, _ = read_style(style, use_selectors=False)
    urls = {post.url for post in posts}
    with_parent = [post for post in posts if post.parent_url]
    assert with_parent, "the pages show which post each quote comes from"
    for post in with_parent:
        assert post.parent_url in urls and post.parent_url != post.url
        quoted = next(q for q in post.quotes if q.get("post"))
        assert quoted["post"] in post.parent_url
