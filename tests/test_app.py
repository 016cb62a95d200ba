"""The dashboard, page by page, with Streamlit's AppTest: every page on an empty and on a
populated store, filters that change the numbers, exports, and the writes (alert status,
risk status, corrections)."""

import io
import re
from csv import DictReader
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import BACKENDS, fresh_postgres_database, store_copy
from openpyxl import load_workbook
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import store
from config.catalogue import load_catalogue
from insights import queries
from insights.advocates import AdvocateScore
from insights.analyze import refresh_incidents
from store.insights import replace_advocate_scores, replace_clusters, upsert_alert
from store.tags import HitRecord, Tag

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = [f"app_pages/{name}.py" for name in ("overview", "journey", "trends", "digest", "at_risk",
                                              "complaints", "advocates", "questions",
                                              "mentions", "sources")]
END = datetime(2026, 11, 20, 18, tzinfo=UTC)
XSS = "<script>alert(1)</script> Волна списала деньги <img src=x onerror=alert(2)>"
MARKUP = "**Volna** [win](javascript:alert(3)) :red[fake] $x^2$ # big <b>bold</b>"

# (language, stance, text, hits: (kind, key, words in text, extra), intents)
TEMPLATES = [
    ("ru", "negative", "Волна опять списала деньги за роуминг, верните!",
     [("brand", "volna", "Волна", None), ("touchpoint", "billing", "списала деньги", None)],
     ()),
    ("uk", "negative", "Підтримка Волни не відповідає третій день.",
     [("brand", "volna", "Волни", None), ("touchpoint", "support", "Підтримка", None)], ()),
    ("en", "positive", "Volna network is fast and stable, great job.",
     [("brand", "volna", "Volna", None), ("touchpoint", "network", "network", None)], ()),
    ("ru", "positive", "Моя Волна — удобное приложение, всё понятно.",
     [("product", "volna-app", "Моя Волна", {"brand": "volna"}),
      ("touchpoint", "digital", "приложение", None)], ()),
    ("en", "negative", "Volna Home router setup failed, the instructions are confusing.",
     [("product", "volna-home", "Volna Home", {"brand": "volna"}),
      ("touchpoint", "onboarding", "setup", None)], ()),
    ("en", "positive", "Telenova Fiber is cheaper and works fine.",
     [("product", "telenova-home", "Telenova Fiber", {"brand": "telenova"})], ()),
    ("ru", "negative", "Ухожу от Волны к Теленове, надоело.",
     [("brand", "volna", "Волны", None), ("competitor", "telenova", "Теленове", None),
      ("touchpoint", "churn", "Ухожу", None),
      ("intent", "churn", "Ухожу от", {"target": "telenova", "from": "volna"})], ("churn",)),
    ("en", "positive", "I recommend Volna to everyone, best support ever.",
     [("brand", "volna", "Volna", None), ("touchpoint", "support", "support", None),
      ("intent", "recommendation", "recommend", None)], ("recommendation",)),
]
SOURCES = ["forum", "reviews", "telegram"]
AUTHORS = ["olga", "ivan", "petro", "kate", "anna", "max"]


def _write(db, *, n, source, handle, when, language, stance, text, hits, thread=None,
           likes=1):
    url = f"https://{source}.example.com/t/{thread or n}#p{n}"
    store.upsert_mention(db, {
        "source": source, "url": url, "kind": "post", "text": text, "title": None,
        "thread_id": str(thread or n), "author_handle": handle,
        "author_url": f"https://{source}.example.com/u/{handle}",
        "published_at": when.isoformat(), "likes": likes})
    mention = store.mention_id(source, url)
    content_hash = db.execute("SELECT content_hash FROM mentions WHERE id = ?",
                              [mention]).fetchone()[0]
    tags = [Tag(mention, "language", language, 0.99, "lid", "t1", content_hash,
                {"why": ["test"]}),
            Tag(mention, "sentiment", stance, 0.9, "sentiment", "t1", content_hash,
                {"sentences": [{"index": 0, "text": text.split(". ")[0], "label": stance,
                                "score": 0.9}]})]
    records = []
    for kind, key, words, extra in hits:
        start = text.find(words)
        records.append(HitRecord(kind, key, words, stance if kind != "intent" else None, 0.9,
                                 start, start + len(words), words, "pattern", 0, extra))
    store.tags.write_mention_tags(db, mention, tags, records, "t1")
    return mention


def build_populated_db(path) -> dict:
    """A small store: eight weeks of tagged posts in ru / uk / en about Volna and Telenova
    from three sources, a billing spike in the last days with a post carrying script and
    markup, questions, alerts, advocate scores and crawl runs. Returns ids of note."""
    ids = {}
    with store.open_db(path) as db:
        n = 0
        for day in range(56):
            for k in range(2):
                n += 1
                language, stance, text, hits, _ = TEMPLATES[(day * 2 + k) % len(TEMPLATES)]
                when = END - timedelta(days=day, hours=3 + 5 * k)
                ids.setdefault("first", _write(
                    db, n=n, source=SOURCES[n % 3], handle=AUTHORS[n % len(AUTHORS)],
                    when=when, language=language, stance=stance, text=text, hits=hits))
        spike = []
        for k in range(4):  # the spike: roaming charges
            n += 1
            spike += [_write(db, n=n, source="forum", handle=f"angry{k}",
                   when=END - timedelta(hours=6 + 4 * k), language="ru", stance="negative",
                   text=f"Волна списала деньги за роуминг дважды, ужас (#{k})",
                   hits=TEMPLATES[0][3])]
        n += 1
        ids["xss"] = _write(db, n=n, source="forum", handle="mallory",
                            when=END - timedelta(hours=2), language="ru", stance="negative",
                            text=XSS, hits=[("brand", "volna", "Волна", None),
                                            ("touchpoint", "billing", "списала деньги", None)])
        n += 1
        ids["markup"] = _write(db, n=n, source="reviews", handle="mallory",
                               when=END - timedelta(hours=1), language="en", stance="negative",
                               text=MARKUP, hits=[("brand", "volna", "Volna", None)])
        n += 1  # an unanswered question
        ids["question"] = _write(
            db, n=n, source="forum", handle="nina", when=END - timedelta(days=3),
            language="ru", stance="neutral", text="Подскажите, как подключить Волна Хоум?",
            hits=[("product", "volna-home", "Волна Хоум", {"brand": "volna"}),
                  ("intent", "question", "Подскажите", None)], thread="q1")
        n += 1  # a question answered after 30 hours, by the brand
        asked = END - timedelta(days=6)
        _write(db, n=n, source="forum", handle="oleh", when=asked, language="uk",
               stance="neutral", text="Як змінити тариф Волни?",
               hits=[("brand", "volna", "Волни", None), ("intent", "question", "Як", None)],
               thread="q2")
        n += 1
        _write(db, n=n, source="forum", handle="Volna_Support",
               when=asked + timedelta(hours=30), language="uk", stance="neutral",
               text="Вітаємо! Тариф змінюється в застосунку.", hits=[], thread="q2")
        upsert_alert(db, "volna/*/billing", {
            "brand": "volna", "touchpoint": "billing",
            "started_at": (END - timedelta(days=1)).isoformat(),
            "last_seen_at": END.isoformat(), "magnitude": 4.2, "baseline": 0.6,
            "terms": [{"term": "роуминг", "score": 3.2, "incident_posts": 5,
                       "baseline_posts": 1}],
            "example_ids": [ids["xss"]], "details": {"observed": 6},
            "mention_ids": spike + [ids["xss"]]})
        upsert_alert(db, "volna/*/support", {
            "brand": "volna", "touchpoint": "support",
            "started_at": (END - timedelta(days=40)).isoformat(),
            "last_seen_at": (END - timedelta(days=38)).isoformat(), "magnitude": 2.0,
            "baseline": 1.0, "terms": [], "example_ids": [], "ongoing": False})
        refresh_incidents(db, load_catalogue())
        scores = [AdvocateScore(store.author_id(source, handle), "volna", score,
                                {"positive": score / 3, "recommendations": score / 4}, False)
                  for source, handle, score in (("forum", "kate", 71.5),
                                                ("telegram", "petro", 55.0),
                                                ("reviews", "anna", 12.0))]
        replace_advocate_scores(db, "volna", scores)
        billing = [row[0] for row in db.execute(
            "SELECT mention_id FROM hits WHERE kind = 'touchpoint' AND key = 'billing' "
            "ORDER BY mention_id")]
        languages = db.execute(  # the member facts `otklik analyze` keeps with a cluster
            "SELECT language, count(*) FROM mentions WHERE id IN (SELECT mention_id FROM hits "
            "WHERE kind = 'touchpoint' AND key = 'billing') GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        details = {"representatives": [ids["xss"]], "languages": languages,
                   "products": [], "touchpoints": [["billing", len(billing)]]}
        replace_clusters(db, [{"id": "c-billing", "label": "double charges for roaming",
                               "terms": [["роуминг", 0.41], ["списала", 0.3]],
                               "size": len(billing), "details": details,
                               "members": [(m, 0.2, m == ids["xss"]) for m in billing]}])
        run = store.start_run(db, "forum")
        store.finish_run(db, run, "finished", {"otklik/stored/inserted": 40,
                                               "log_count/ERROR": 2}, [])
        run = store.start_run(db, "reviews")
        store.finish_run(db, run, "finished", {"otklik/stored/inserted": 0},
                         ["layout changed"])
    return ids


@pytest.fixture(scope="module", params=BACKENDS)
def populated_template(request, tmp_path_factory):
    """The populated store, built once per engine (on PostgreSQL as a template database)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("populated") / "otklik.db"
        yield path, build_populated_db(path)
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_template")) as url:
        yield url, build_populated_db(url)


@pytest.fixture
def populated(populated_template, tmp_path, monkeypatch):
    """A private copy of the populated store, named by ``OTKLIK_DB``."""
    template, ids = populated_template
    with store_copy(template, tmp_path) as copy:
        monkeypatch.setenv("OTKLIK_DB", str(copy))
        yield copy, ids


@pytest.fixture
def empty(monkeypatch, db_path):
    monkeypatch.setenv("OTKLIK_DB", str(db_path))
    return db_path


@pytest.fixture
def media(monkeypatch):
    """The bytes behind every download button, by media file id."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return files


def downloaded(at, media, label: str) -> bytes:
    button = next(b for b in at.get("download_button") if b.proto.label == label)
    return media[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]


def page(path: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if path != "app_pages/overview.py":
        at.switch_page(path)
        for key, value in params.items():  # the page's own parameters, as in a shared link
            at.query_params[key] = value
        at.run()
    assert not at.exception, at.exception
    return at


def texts(at) -> str:
    """Everything the page shows as text, markdown, captions, alerts and metrics."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "text", "info",
                                  "success", "warning", "error") for e in getattr(at, kind)]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_runs_on_an_empty_database(empty, path):
    at = page(path)
    assert at.info, "an empty page says what to do next"
    assert "otklik" in texts(at).lower()


@pytest.mark.parametrize("path", PAGES)
def test_every_page_runs_on_a_populated_database(populated, path):
    at = page(path)
    assert at.title[0].value
    assert not at.info or path in ("app_pages/complaints.py",), texts(at)


def test_overview_shows_kpis_with_changes_and_the_open_alert(populated):
    at = page("app_pages/overview.py")
    shown = metrics(at)
    assert set(shown) == {"Mentions", "Negative share", "Net sentiment", "Social NPS",
                          "Share of voice"}
    assert int(shown["Mentions"]) > 20
    assert all(m.delta for m in at.metric), "each KPI has a change against the period before"
    assert "roaming" not in texts(at) and "роуминг" in texts(at)  # the alert's word
    assert (at.query_params["from"], at.query_params["to"]) == ("2026-10-24", "2026-11-20")


def test_filters_change_the_numbers_and_follow_the_url(populated):
    at = page("app_pages/overview.py")
    everything = metrics(at)["Mentions"]
    at.selectbox(key="gf_lang").select("uk").run()
    ukrainian = metrics(at)["Mentions"]
    assert int(ukrainian) < int(everything)
    assert at.query_params["lang"] == "uk"
    at.selectbox(key="gf_brand").select("telenova").run()
    assert metrics(at)["Mentions"] != ukrainian
    at.switch_page("app_pages/journey.py").run()  # the filters follow to the next page
    assert at.selectbox(key="gf_lang").value == "uk"
    assert at.query_params["brand"] == "telenova"


def test_a_shared_link_opens_the_same_view_and_bad_values_are_named(populated):
    at = page("app_pages/overview.py", brand="volna", lang="en", **{"from": "2026-11-01"})
    assert at.selectbox(key="gf_lang").value == "en"
    assert at.date_input(key="gf_dates").value[0].isoformat() == "2026-11-01"
    at = page("app_pages/overview.py", brand="nokia")
    assert any("nokia" in w.value for w in at.warning)


def test_journey_heatmap_and_the_posts_behind_a_cell(populated):
    at = page("app_pages/journey.py")
    assert "Where it hurts" in texts(at)
    cells = at.selectbox(key="journey_cell").options
    billing = next(option for option in cells if "Billing" in option)
    at.selectbox(key="journey_cell").select_index(cells.index(billing)).run()
    assert not at.exception
    assert any("списала деньги" in m.value for m in at.markdown)


def _alert_statuses(db, incident_id):
    return {status for (status,) in db.execute(
        "SELECT status FROM alerts WHERE incident_id = ?", [incident_id])}


def test_trends_shows_the_incident_and_acknowledging_it_acts_on_all_its_alerts(populated):
    path, _ = populated
    at = page("app_pages/trends.py")
    shown = texts(at)
    assert "роуминг" in shown and "Billing" in shown and "5 negative posts" in shown
    with store.open_db(path) as db:
        incident_id = queries.open_incidents(db)[0]["id"]
        db.execute("UPDATE alerts SET incident_id = ? WHERE key = 'volna/*/support'",
                   [incident_id])  # a second slice of the same incident
    at.button(key=f"ack-{incident_id}").click().run()
    assert not at.exception
    with store.open_db(path) as db:
        assert queries.open_incidents(db)[0]["status"] == "acknowledged"
        assert _alert_statuses(db, incident_id) == {"acknowledged", "resolved"}
    at.button(key=f"resolve-{incident_id}").click().run()
    with store.open_db(path) as db:
        assert queries.open_incidents(db) == []
        assert _alert_statuses(db, incident_id) == {"resolved"}
    assert any("resolved" in s.value for s in at.success)


def test_a_link_to_an_incident_shows_it_even_when_resolved(populated):
    path, _ = populated
    with store.open_db(path) as db:
        resolved = [i for i in queries.incidents_between(db, "2026-01-01", "2027-01-01")
                    if i["status"] == "resolved"]
    assert len(resolved) == 1
    at = page("app_pages/trends.py", incident=str(resolved[0]["id"]), **{"from": "2026-11-01"})
    assert f"incident {resolved[0]['id']}" in texts(at)


def test_the_weekly_digest_links_to_the_incident_of_the_week(populated, media):
    path, _ = populated
    with store.open_db(path) as db:
        incident_id = queries.open_incidents(db)[0]["id"]
    at = page("app_pages/digest.py", week="2026-W47")
    shown = texts(at)
    assert "Incidents opened" in shown and "Billing" in shown
    assert f"/trends?from=2026-11-16&to=2026-11-22&brand=volna&incident={incident_id}" in shown
    html = downloaded(at, media, "Download e-mail HTML").decode()
    assert f"http://localhost:8501/trends?from=2026-11-16&amp;to=2026-11-22&amp;brand=volna" \
           f"&amp;incident={incident_id}" in html
    quiet = page("app_pages/digest.py", week="2025-W01")
    assert any("A quiet week" in s.value for s in quiet.success)


def test_risk_status_is_saved_and_the_queue_exports(populated, media):
    path, _ = populated
    at = page("app_pages/at_risk.py")
    author = store.author_id("forum", "mallory")
    at.selectbox(key=f"risk-status-{author}").select("contacted")
    at.text_input(key=f"risk-note-{author}").input("called back")
    at.button(key=f"risk-save-{author}").click().run()
    assert not at.exception
    with store.open_db(path) as db:
        assert queries.risk_statuses(db)[author] == "contacted"
    assert any("Status saved" in s.value and "mallory" in s.value for s in at.success)
    csv = downloaded(at, media, "Download CSV").decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("handle,source,profile_url,brand,status")
    assert "mallory" in csv and "contacted" in csv  # the saved status is in the export
    book = load_workbook(io.BytesIO(downloaded(at, media, "Download XLSX")))
    assert book.active["A1"].value == "handle" and book.active.max_row > 1


def test_advocates_filter_and_export(populated, media):
    at = page("app_pages/advocates.py")
    ranked = at.dataframe[0].value
    assert list(ranked["handle"]) == ["kate", "petro", "anna"]
    assert {"positive", "recommendations"} <= set(ranked.columns)  # score components
    csv = downloaded(at, media, "Download CSV").decode("utf-8-sig")
    exported = list(DictReader(io.StringIO(csv)))
    assert list(exported[0])[:6] == ["handle", "name", "source", "profile_url", "brand", "score"]
    assert [row["handle"] for row in exported] == ["kate", "petro", "anna"]
    assert exported[0]["sample_posts"].startswith("https://")
    book = load_workbook(io.BytesIO(downloaded(at, media, "Download XLSX")))
    assert book.active["A2"].value == "kate"
    at.selectbox(key="gf_source").select("telegram").run()
    assert list(at.dataframe[0].value["handle"]) == ["petro"]
    at.number_input(key="advocates_min").set_value(1000).run()
    assert any("No advocate passes" in i.value for i in at.info)
    assert "Promoters" in texts(at) and "Detractors" in texts(at)


def test_export_bytes_are_safe_csv_and_xlsx():
    from dashboard.downloads import export_bytes
    from insights.exports import EXPORTS

    rows = [{"handle": "=cmd", "score": 1.0, "brand": "volna"}]
    csv = export_bytes(rows, EXPORTS["advocates"], "csv")
    assert csv.startswith("\ufeff".encode()) and b"'=cmd" in csv
    book = load_workbook(io.BytesIO(export_bytes(rows, EXPORTS["advocates"], "xlsx")))
    cell = book.active["A2"]
    assert (cell.value, cell.data_type) == ("=cmd", "s")  # text as written, never a formula


def test_questions_lists_unanswered_and_slow(populated):
    at = page("app_pages/questions.py")
    shown = metrics(at)
    assert shown["Unanswered"] == "1" and shown["Slow (> 24 h)"] == "1"
    assert shown["Answered by the brand"] == "1"


def test_mentions_search_shows_script_as_text_and_a_correction_is_kept(populated):
    path, ids = populated
    at = page("app_pages/mentions.py", q="списала")
    shown = "\n".join(m.value for m in at.markdown)
    assert "\\<script\\>alert\\(1\\)\\<\\/script\\>" in shown  # escaped: literal
    assert re.search(r"(?<!\\)[<>]", shown) is None, "no angle bracket reaches the page raw"
    at.radio(key=f"fix-field-{ids['xss']}").set_value("sentiment").run()
    at.selectbox(key=f"fix-sentiment-{ids['xss']}").select("neutral")
    at.button(key=f"fix-save-{ids['xss']}").click().run()
    assert not at.exception
    with store.open_db(path) as db:
        row = db.execute("SELECT field, old_value, new_value FROM corrections "
                         "WHERE mention_id = ?", [ids["xss"]]).fetchone()
    assert row == ("sentiment", "negative", "neutral")


def test_markup_in_a_post_is_escaped_everywhere(populated):
    at = page("app_pages/mentions.py", q="javascript")
    shown = "\n".join(m.value for m in at.markdown)
    # the post's own asterisks stay literal around the matched brand name (in bold)
    assert "\\*\\***Volna**\\*\\*" in shown
    assert "\\[win\\]\\(javascript\\:alert\\(3\\)\\)" in shown
    assert "\\:red\\[fake\\]" in shown and "\\$x\\^2\\$" in shown


def test_sources_page_flags_layout_changes(populated):
    at = page("app_pages/sources.py")
    assert metrics(at)["Layout changed"] == "1"
    assert any("reviews" in e.value for e in at.error)


def test_complaint_cluster_opens_with_evidence_highlighted(populated):
    at = page("app_pages/complaints.py")
    table = at.dataframe[0].value
    assert table["theme"][0] == "double charges for roaming" and table["size"][0] > 5
    assert "Billing" in table["touchpoints"][0] and "ru" in table["languages"][0]
    at.selectbox(key="complaints_cluster").set_value("c-billing").run()
    assert not at.exception
    shown = "\n".join(m.value for m in at.markdown)
    assert "representative post" in texts(at)
    assert "**списала деньги**" in shown  # the matched words, in bold
    assert ":red-background[" in shown  # the negative sentence
    assert re.search(r"(?<!\\)[<>]", shown) is None


def test_complaints_show_themes_with_their_sub_themes(populated):
    path, _ = populated
    with store.open_db(path) as db:
        billing = [row[0] for row in db.execute(
            "SELECT mention_id FROM hits WHERE kind = 'touchpoint' AND key = 'billing' "
            "ORDER BY mention_id")]
        half = len(billing) // 2
        details = {"touchpoints": [["billing", len(billing)]], "languages": [["ru", 3]]}
        replace_clusters(db, [
            {"id": "c-roaming", "parent_id": "t-money", "label": "роуминг",
             "title": "Списали деньги за роуминг", "terms": [["роуминг", 0.4]],
             "size": half, "details": details,
             "members": [(m, 0.1, False) for m in billing[:half]]},
            {"id": "c-twice", "parent_id": "t-money", "label": "дважды",
             "title": "Абонплату списали дважды", "terms": [["дважды", 0.3]],
             "size": len(billing) - half, "details": details,
             "members": [(m, 0.1, False) for m in billing[half:]]},
            {"id": "t-money", "label": "списать, деньги", "title": "Списали деньги без спроса",
             "terms": [["списать", 0.5], ["деньги", 0.4]], "size": len(billing),
             "details": details, "members": [(m, 0.2, True) for m in billing]}])
    at = page("app_pages/complaints.py")
    assert not at.exception
    themes = at.dataframe[0].value
    assert list(themes["theme"]) == ["Списали деньги без спроса"]
    assert themes["sub-themes"][0] == 2 and themes["key phrases"][0] == "списать, деньги"
    assert "Billing" in themes["touchpoints"][0]
    subs = at.dataframe[1].value
    assert set(subs["sub-theme"]) == {"Списали деньги за роуминг", "Абонплату списали дважды"}
    at.selectbox(key="complaints_cluster").set_value("c-twice").run()
    assert "sub-theme of: Списали деньги без спроса" in texts(at)


def test_mentions_show_why_with_evidence(populated):
    _, ids = populated
    at = page("app_pages/mentions.py", q="роуминг")
    assert not at.exception
    assert any("**списала деньги**" in m.value for m in at.markdown)
    why = next(d.value for d in at.dataframe)
    assert "sentiment: negative" in set(why["what"])
    assert any(str(w).startswith("touchpoint") for w in why["what"])


def test_complaints_say_what_to_do_when_no_cluster_exists(populated):
    path, _ = populated
    with store.open_db(path) as db:
        replace_clusters(db, [])
    at = page("app_pages/complaints.py")
    assert any("No complaint clusters yet" in i.value for i in at.info)
