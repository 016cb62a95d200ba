"""The dashboard in a real browser: ``otklik app`` on 127.0.0.1 over a populated store,
headless Chromium driven by Playwright. Every page loads with its key text, a shared link
opens its page with the app's own menu, a sidebar filter lands in the URL and follows to the
next page, and a post carrying script and markup is shown as text with no dialog firing.
Screenshots go to ``test-artifacts/``.

Needs Debian's Chromium (``apt-get install -y chromium``) and the ``playwright`` package;
the browser bundled by ``playwright install`` is not used."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_app import XSS, build_populated_db

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("OTKLIK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
PAGES = [  # url path, title, text that must show
    ("", "Overview", "Share of voice"),  # the default page lives at /
    ("journey", "Customer journey", "Where it hurts"),
    ("trends", "Trends & alerts", "Distinctive words"),
    ("digest", "Weekly digest", "Customers at risk not yet contacted"),
    ("at-risk", "Customers at risk", "Follow up"),
    ("complaints", "Complaints", "Open a cluster"),
    ("advocates", "Advocates", "Promoters and detractors"),
    ("questions", "Community questions", "Unanswered (1)"),
    ("mentions", "Mentions", "Open the original"),
    ("sources", "Sources", "layout changed"),
]
MENU = {"Watch": ["Overview", "Customer journey", "Trends & alerts", "Weekly digest"],
        "Act": ["Customers at risk", "Complaints", "Advocates", "Community questions"],
        "Explore": ["Mentions", "Sources"]}
# Records every text the sidebar's page list shows, from the first paint on.
NAV_RECORDER = """
window.otklikNav = [];
new MutationObserver(() => {
    for (const nav of document.querySelectorAll('[data-testid="stSidebarNav"]')) {
        window.otklikNav.push(nav.innerText);
    }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def _browser_parts():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the browser test needs the 'playwright' package: pip install playwright "
                    "(its bundled browsers are not needed)")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install -y chromium "
                    "chromium-driver (or set OTKLIK_CHROMIUM to its path)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sync_playwright = _browser_parts()
    folder = tmp_path_factory.mktemp("browser")
    database = folder / "otklik.db"
    build_populated_db(database)
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (folder / "streamlit.log").open("w")
    process = subprocess.Popen(  # its own process group: `otklik app` runs streamlit as a child
        [sys.executable, str(ROOT / "cli.py"), "app", "--db", str(database), "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("streamlit did not start:\n" + (folder / "streamlit.log").read_text())
        time.sleep(0.2)
    yield base, sync_playwright
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


@pytest.fixture(scope="module")
def browser(server):
    base, sync_playwright = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield base, browser
        browser.close()


def _new_page(browser):
    """A page in a fresh browser context (no cookies, no session: a newly opened link)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"),
                  lambda route: route.abort())  # nothing leaves the machine
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture(scope="module")
def browser_page(browser):
    base, chromium = browser
    page = _new_page(chromium)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield base, page, dialogs


def _open(page, url: str, title: str) -> None:
    page.goto(url)
    page.get_by_role("heading", name=title, exact=True).wait_for()
    _settled(page)


SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.dataset.testScriptState === "notRunning"
        && !document.querySelector('[data-stale="true"]');
}"""


def _settled(page) -> None:
    """Wait until the script run is over and every element is fresh."""
    page.wait_for_timeout(200)
    page.wait_for_function(SETTLED)
    page.wait_for_load_state("networkidle")  # lazily loaded parts (charts, tables) are in
    page.wait_for_timeout(500)  # and drawn


def test_every_page_loads_with_its_key_text(browser_page):
    base, page, dialogs = browser_page
    for path, title, key_text in PAGES:
        _open(page, f"{base}/{path}", title)
        page.get_by_text(key_text).first.wait_for()
        if path == "complaints":  # table cells are drawn on a canvas; their text is in the DOM
            page.get_by_text("double charges for roaming").first.wait_for(state="attached")
        assert not page.get_by_test_id("stException").count(), f"/{path} raised"
        name = path or "overview"
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
    assert dialogs == []


def test_a_shared_link_opens_its_page_with_the_app_menu_only(browser):
    base, chromium = browser
    page = _new_page(chromium)
    page.add_init_script(NAV_RECORDER)
    _open(page, f"{base}/trends?lang=uk", "Trends & alerts")
    page.get_by_text("Distinctive words").first.wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_role("combobox", name="Language").input_value() == "uk"
    headers = page.get_by_test_id("stNavSectionHeader").all_inner_texts()
    assert [h.strip() for h in headers] == list(MENU)
    links = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
    assert [link.strip() for link in links] == [t for titles in MENU.values() for t in titles]
    page.screenshot(path=str(ARTIFACTS / "dashboard-shared-link.png"), full_page=True)
    seen = {line.strip() for text in page.evaluate("window.otklikNav") for line in
            text.splitlines() if line.strip()}
    menu = {*MENU, *(t for titles in MENU.values() for t in titles)}
    assert seen and seen <= menu, f"the sidebar listed other pages: {sorted(seen - menu)}"
    page.context.close()


def test_a_filter_goes_into_the_url_and_follows_to_the_next_page(browser_page):
    base, page, _ = browser_page
    _open(page, f"{base}/", "Overview")
    before = page.get_by_test_id("stMetric").first.inner_text()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Language").click()
    page.get_by_role("option", name="uk", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]lang=uk"))
    _settled(page)
    assert page.get_by_test_id("stMetric").first.inner_text() != before
    assert re.search(r"from=\d{4}-\d\d-\d\d&to=\d{4}-\d\d-\d\d", page.url)
    page.screenshot(path=str(ARTIFACTS / "dashboard-overview-uk.png"), full_page=True)
    sidebar.get_by_test_id("stSidebarNav").get_by_text("Customer journey").click()
    page.get_by_role("heading", name="Customer journey", exact=True).wait_for()
    page.wait_for_url(re.compile(r"/journey\?.*lang=uk"))
    _settled(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-journey-uk.png"), full_page=True)
    assert sidebar.get_by_role("combobox", name="Language").input_value() == "uk"
    shared = page.url
    _open(page, shared, "Customer journey")  # the link opens the same view
    assert "lang=uk" in page.url


def test_script_and_markup_in_a_post_show_as_text(browser_page):
    base, page, dialogs = browser_page
    _open(page, f"{base}/mentions?q=onerror", "Mentions")
    page.get_by_text("<script>alert(1)</script>", exact=False).first.wait_for()
    assert page.get_by_text("<img src=x onerror=alert(2)>", exact=False).first.is_visible()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script", has_text="alert(1)").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    page.screenshot(path=str(ARTIFACTS / "dashboard-mentions-script.png"), full_page=True)
    _open(page, f"{base}/mentions?q=javascript", "Mentions")
    page.get_by_text("**Volna** [win](javascript:alert(3)) :red[fake] $x^2$",
                     exact=False).first.wait_for()
    assert page.locator("a[href^='javascript']").count() == 0
    # the evidence view: the matched words in bold, the post still literal
    _open(page, f"{base}/complaints?cluster=c-billing", "Complaints")
    page.get_by_text("representative post").first.wait_for()
    assert page.locator("strong", has_text="списала деньги").count() > 0
    assert page.get_by_text(XSS.split(" Волна")[0], exact=False).first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-complaints-cluster.png"), full_page=True)
    page.wait_for_timeout(500)
    assert dialogs == [], "a dialog fired: a post ran as script"
