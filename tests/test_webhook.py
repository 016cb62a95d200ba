import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from insights.webhook import WebhookError, payload, send, slack_payload, telegram_payload

ALERT = {
    "key": "telenova|roaming|billing|forum", "brand": "Telenova", "product": "Roaming",
    "touchpoint": "billing", "source_id": "forum", "started_at": "2026-03-06T10:00:00+00:00",
    "last_seen_at": "2026-03-06T18:00:00+00:00", "status": "open", "magnitude": 3.4,
    "baseline": 31.2, "example_ids": '["m1"]',
    "terms": json.dumps([{"term": "роуминг", "score": 4.1}, {"term": "<b>x</b>", "score": 2.0}]),
    "details": json.dumps({"observed": 106, "p_value": 1e-9}),
    "examples": [{"id": "m1", "url": "https://forum.example/t/1?a=1&b=2",
                  "text": "Списали <script>alert(1)</script> & ещё 500 ₴ > ліміт"}],
}


class Endpoint:
    """A local webhook receiver: answers with the queued (status, body) pairs, records posts."""

    def __init__(self, answers=(), delay=0.0):
        self.answers, self.delay, self.posts = list(answers), delay, []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.posts.append((self.path, self.headers["Content-Type"], body))
                time.sleep(endpoint.delay)
                status, text = endpoint.answers.pop(0) if endpoint.answers else (200, "ok")
                self.send_response(status)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T0/B0/secret"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    started = []

    def start(answers=(), delay=0.0):
        started.append(Endpoint(answers, delay))
        return started[-1]

    yield start
    for server in started:
        server.close()


def test_slack_payload_is_json_with_escaped_post_text():
    body = slack_payload(ALERT)
    assert json.loads(json.dumps(body, ensure_ascii=False)) == body
    assert body["text"].startswith("Negative spike: Telenova / Roaming / billing (3.4x the usual)")
    assert body["blocks"][0]["type"] == "header"
    text = json.dumps(body, ensure_ascii=False)
    assert "<script>" not in text and "<b>x</b>" not in text
    quote = body["blocks"][-1]["text"]["text"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; ещё 500 ₴ &gt; ліміт" in quote
    assert "<https://forum.example/t/1?a=1&amp;b=2|open>" in quote
    fields = dict(f["text"].split("\n") for f in body["blocks"][1]["fields"])
    assert fields["*Negatives*"] == "106 vs 31.2 expected (3.4x the usual)"
    assert fields["*Since*"] == "2026-03-06 10:00 UTC"


def test_telegram_payload_is_html_with_escaped_post_text():
    body = telegram_payload(ALERT, chat_id="-100123")
    assert json.loads(json.dumps(body)) == body
    assert (body["chat_id"], body["parse_mode"]) == ("-100123", "HTML")
    assert "<blockquote>Списали &lt;script&gt;alert(1)&lt;/script&gt; &amp; ещё 500 ₴ &gt; ліміт"\
        in body["text"]
    assert '<a href="https://forum.example/t/1?a=1&amp;b=2">open</a>' in body["text"]
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in body["text"]
    assert len(body["text"]) <= 4096


def test_long_telegram_message_is_cut_to_the_limit():
    alert = ALERT | {"examples": [{"text": "x" * 1000, "url": ""}] * 3,
                     "terms": [["t" * 1000, 1.0]] * 8}
    assert len(telegram_payload(alert, 1)["text"]) <= 4096


def test_kinds_and_telegram_chat_are_checked():
    with pytest.raises(WebhookError, match="unknown webhook kind 'teams'; choose one of slack"):
        payload(ALERT, "teams")
    with pytest.raises(WebhookError, match="needs a chat_id"):
        payload(ALERT, "telegram")


def test_dry_run_returns_the_payload_and_sends_nothing(endpoint):
    server = endpoint()
    assert send(ALERT, server.url, "slack") == slack_payload(ALERT)
    assert send(ALERT, server.url, "telegram", chat_id=5) == telegram_payload(ALERT, 5)
    assert server.posts == []


def test_real_post_reaches_the_local_endpoint(endpoint):
    server = endpoint()
    sent = send(ALERT, server.url, "slack", dry_run=False)
    assert len(server.posts) == 1
    path, content_type, body = server.posts[0]
    assert path == "/services/T0/B0/secret"
    assert content_type.startswith("application/json")
    assert json.loads(body.decode("utf-8")) == sent


def test_one_retry_after_a_server_error(endpoint):
    server = endpoint([(503, "busy")])
    send(ALERT, server.url, "telegram", dry_run=False, chat_id=1, retry_delay=0)
    assert len(server.posts) == 2


def test_failing_endpoint_gives_a_clear_error_without_the_secret(endpoint):
    server = endpoint([(500, "boom"), (500, "boom again")])
    with pytest.raises(WebhookError, match=r"posting to http://127\.0\.0\.1:\d+/… failed: "
                                           r"HTTP 500 .*boom again") as failure:
        send(ALERT, server.url, "slack", dry_run=False, retry_delay=0)
    assert "secret" not in str(failure.value)
    assert len(server.posts) == 2


def test_client_error_and_telegram_refusal_are_not_retried(endpoint):
    server = endpoint([(404, "no_service")])
    with pytest.raises(WebhookError, match="HTTP 404 .*no_service"):
        send(ALERT, server.url, "slack", dry_run=False, retry_delay=0)
    assert len(server.posts) == 1
    server = endpoint([(200, '{"ok": false, "description": "Bad Request: chat not found"}')])
    with pytest.raises(WebhookError, match="chat not found"):
        send(ALERT, server.url, "telegram", dry_run=False, chat_id=1, retry_delay=0)
    assert len(server.posts) == 1


def test_unreachable_and_slow_endpoints_fail_clearly(endpoint):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WebhookError, match=rf"posting to http://127\.0\.0\.1:{port}/… failed"):
        send(ALERT, f"http://127.0.0.1:{port}/hook", "slack", dry_run=False, retry_delay=0)
    server = endpoint(delay=0.5)
    with pytest.raises(WebhookError, match="timed out"):
        send(ALERT, server.url, "slack", dry_run=False, timeout=0.2, retry_delay=0)
    assert len(server.posts) == 2


def test_only_http_urls_are_posted_to():
    with pytest.raises(WebhookError, match="must be http:// or https://"):
        send(ALERT, "file:///etc/passwd", "slack", dry_run=False)
