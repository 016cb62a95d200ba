"""Incidents (or single alerts) as Slack or Telegram webhook messages, posting them (urllib,
one retry), and delivering each change of an incident once.

An alert is a mapping with the ``alerts`` table's columns (``terms``, ``example_ids`` and
``details`` as JSON text or already decoded); an incident one with the ``incidents`` table's
columns and ``slices`` (its alerts, as ``store.incidents.incident_slices`` gives them). Both
take an optional ``examples`` list of ``{"id", "text", "url"}`` posts to quote and an optional
``event`` (opened, grown, ended). Formatting is pure; ``send`` posts one message, and with
``dry_run=True`` (the default) returns the payload without sending anything;
``deliver_incidents`` posts what changed since the last run, one message per incident, and
records it in the store.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from store.incidents import incidents_for_delivery, record_incident_delivery
from store.webhooks import example_posts

KINDS = ("slack", "telegram")
EXAMPLES = 3
EXAMPLE_CHARS = 280
TELEGRAM_LIMIT = 4096
SLACK_SECTION_LIMIT = 3000
GROWTH = 1.5  # an open incident is posted again once it holds this many times the posts
RECENT_DAYS = 7  # an incident never posted is posted if last seen this recently
TOUCHPOINTS_SHOWN = 4
TITLES = {"opened": "Negative spike", "grown": "Negative spike growing",
          "ended": "Negative spike over"}

log = logging.getLogger(__name__)


class WebhookError(RuntimeError):
    """A webhook could not be formatted or posted; the message says why.

    ``retriable``: a network error, timeout, 429 or 5xx, which one retry may get past.
    """

    def __init__(self, message: str, retriable: bool = False):
        super().__init__(message)
        self.retriable = retriable


def slack_payload(alert: Mapping) -> dict:
    """Slack incoming-webhook JSON: a plain ``text`` fallback and Block Kit ``blocks``."""
    facts = _facts(alert)
    fields = [{"type": "mrkdwn", "text": f"*{_slack(name)}*\n{_slack(value)}"}
              for name, value in facts["fields"]]
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": facts["title"][:150]}},
        {"type": "section", "fields": fields[:10]},
    ]
    if facts["terms"]:
        terms = ", ".join(f"`{_slack(term)}`" for term in facts["terms"])
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": f"*Distinctive words:* {terms}"}})
    for example in facts["examples"]:
        quote = _slack(example["text"]).replace("\n", "\n>")
        link = f" <{_slack_url(example['url'])}|open>" if example["url"] else ""
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": f">{quote}{link}"[:SLACK_SECTION_LIMIT]}})
    return {"text": facts["summary"], "blocks": blocks}


def telegram_payload(alert: Mapping, chat_id: str | int) -> dict:
    """Telegram Bot API ``sendMessage`` JSON with HTML parse mode, post text escaped."""
    facts = _facts(alert)
    lines = [f"<b>{_html(facts['title'])}</b>"]
    lines += [f"<b>{_html(name)}:</b> {_html(value)}" for name, value in facts["fields"]]
    if facts["terms"]:
        lines.append("<b>Distinctive words:</b> "
                     + ", ".join(f"<code>{_html(term)}</code>" for term in facts["terms"]))
    for example in facts["examples"]:
        link = (f' <a href="{html.escape(example["url"], quote=True)}">open</a>'
                if example["url"] else "")
        lines.append(f"<blockquote>{_html(example['text'])}</blockquote>{link}")
    text = "\n".join(lines)
    while len(text) > TELEGRAM_LIMIT and len(lines) > 1:
        lines.pop()
        text = "\n".join(lines)
    return {"chat_id": chat_id, "text": text, "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True}}


def payload(alert: Mapping, kind: str, chat_id: str | int | None = None) -> dict:
    """The payload of ``kind`` ('slack' or 'telegram'; Telegram needs ``chat_id``)."""
    if kind == "slack":
        return slack_payload(alert)
    if kind == "telegram":
        if chat_id is None or chat_id == "":
            raise WebhookError("a Telegram message needs a chat_id: the chat or channel to post in")
        return telegram_payload(alert, chat_id)
    raise WebhookError(f"unknown webhook kind {kind!r}; choose one of {', '.join(KINDS)}")


def send(alert: Mapping, url: str, kind: str, dry_run: bool = True,
         chat_id: str | int | None = None, timeout: float = 10.0, retry_delay: float = 1.0) -> dict:
    """Post the alert to ``url``; returns the payload (and sends nothing when ``dry_run``).

    One retry after ``retry_delay`` seconds on a network error, a timeout or a 5xx/429
    answer; a 4xx answer fails at once. Raises :class:`WebhookError` naming the endpoint
    (a Telegram bot token in it is masked) and the reason.
    """
    body = payload(alert, kind, chat_id)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookError(f"webhook url must be http:// or https://, got {_redact(url)!r}")
    if dry_run:
        return body
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    try:
        _post(url, data, timeout)
    except WebhookError as error:
        if not error.retriable:
            raise
        time.sleep(retry_delay)
        _post(url, data, timeout)
    return body


def _post(url: str, data: bytes, timeout: float) -> None:
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "otklik-alerts"})
    where = _redact(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        detail = error.read(500).decode("utf-8", "replace").strip()
        raise WebhookError(f"posting to {where} failed: HTTP {error.code} {error.reason}"
                           + (f": {detail}" if detail else ""),
                           retriable=error.code >= 500 or error.code == 429) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WebhookError(f"posting to {where} failed: {reason}", retriable=True) from None
    if answer.lstrip().startswith("{"):
        try:
            reply = json.loads(answer)
        except ValueError:
            return
        if isinstance(reply, dict) and reply.get("ok") is False:
            raise WebhookError(f"posting to {where} failed: "
                               f"{reply.get('description') or reply.get('error') or answer}")


def _facts(alert: Mapping) -> dict:
    """What both formats show: title, one-line summary, fields, terms, examples."""
    if "slices" in alert:
        return _incident_facts(alert)
    details = _decoded(alert.get("details"), {})
    where = " / ".join(str(alert[key]) for key in ("brand", "product", "touchpoint")
                       if alert.get(key)) or str(alert.get("key") or "all mentions")
    magnitude = alert.get("magnitude")
    size = f"{magnitude:.1f}x the usual" if isinstance(magnitude, int | float) else "above usual"
    status = str(alert.get("status") or "open")
    title = f"{TITLES.get(alert.get('event'), TITLES['opened'])}: {where}"
    summary = (f"{title} ({size}) since {_when(alert.get('started_at'))}, "
               f"last seen {_when(alert.get('last_seen_at'))}, {status}")
    fields = [("Where", where), ("Since", _when(alert.get("started_at"))),
              ("Last seen", _when(alert.get("last_seen_at"))), ("Status", status)]
    if details.get("observed") is not None and alert.get("baseline") is not None:
        fields.append(("Negatives", f"{details['observed']:g} vs {alert['baseline']:.1f} expected"
                                    f" ({size})"))
    elif magnitude is not None:
        fields.append(("Size", size))
    if alert.get("source_id"):
        fields.append(("Source", str(alert["source_id"])))
    terms = [_term_text(term) for term in _decoded(alert.get("terms"), [])][:8]
    examples = [{"text": _clip(str(example.get("text") or "")),
                 "url": str(example.get("url") or "")}
                for example in (alert.get("examples") or [])[:EXAMPLES]]
    return {"title": title, "summary": summary, "fields": fields, "terms": terms,
            "examples": examples}


def _incident_facts(incident: Mapping) -> dict:
    """An incident's facts: where (brand, its one product, the touchpoint it is about), its
    touchpoints with their posts, its slices with their sizes, its course so far."""
    touchpoints = _decoded(incident.get("touchpoints"), [])
    products = _decoded(incident.get("products"), [])
    main = [str(incident.get("brand") or "")]
    if len(products) == 1:
        main.append(str(products[0]["product"]))
    if touchpoints:
        main.append(str(touchpoints[0]["touchpoint"]))
    where = " / ".join(part for part in main if part)
    magnitude = incident.get("magnitude")
    size = f"{magnitude:.1f}x the usual" if isinstance(magnitude, int | float) else "above usual"
    state = "over" if incident.get("state") == "ended" else "ongoing"
    status = f"{state}, {incident.get('status') or 'open'}"
    title = f"{TITLES.get(incident.get('event'), TITLES['opened'])}: {where}"
    posts = incident.get("posts") or 0
    summary = (f"{title} ({posts} negative posts, {size}) since "
               f"{_when(incident.get('started_at'))}, last seen "
               f"{_when(incident.get('last_seen_at'))}, {status}")
    slices = incident.get("slices") or []
    fields = [("Where", where), ("Since", _when(incident.get("started_at"))),
              ("Last seen", _when(incident.get("last_seen_at"))), ("Status", status),
              ("Negative posts", f"{posts} ({size} on {where.rsplit(' / ', 1)[-1]})")]
    if touchpoints:
        fields.append(("Touchpoints", ", ".join(
            f"{t['touchpoint']} {t['posts']} ({t['share']:.0%}, {t['baseline_share']:.0%} before)"
            for t in touchpoints[:TOUCHPOINTS_SHOWN])))
    if len(products) > 1:
        fields.append(("Products", ", ".join(f"{p['product']} {p['posts']}" for p in products)))
    if slices:
        fields.append((f"Slices ({len(slices)})", ", ".join(
            f"{s['key']} {s.get('observed') or 0:g}" for s in slices)))
    terms = [_term_text(term) for term in _decoded(incident.get("terms"), [])][:8]
    examples = [{"text": _clip(str(example.get("text") or "")),
                 "url": str(example.get("url") or "")}
                for example in (incident.get("examples") or [])[:EXAMPLES]]
    return {"title": title, "summary": summary, "fields": fields, "terms": terms,
            "examples": examples}


def _decoded(value, default):
    if value is None or value == "":
        return default
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            raise WebhookError(f"alert field is not valid JSON: {value[:80]!r}") from error
    return value


def _term_text(term) -> str:
    if isinstance(term, Mapping):
        return str(term.get("term", ""))
    if isinstance(term, list | tuple):
        return str(term[0])
    return str(term)


def _when(value) -> str:
    if not value:
        return "?"
    text = str(value).replace("T", " ")
    return re.sub(r"(:00)?\+00:00$", " UTC", text)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _slack(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control sequences."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    return _slack(url).replace("|", "%7C")


def _html(text: str) -> str:
    return html.escape(str(text), quote=False)


def _redact(url: str) -> str:
    """Scheme and host only: webhook paths carry secrets (Slack's key, Telegram's bot token)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return "<not a url>"
    tail = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{tail}"


@dataclass(frozen=True)
class WebhookTarget:
    """Where alerts go: ``url`` (may be None for a dry run), the payload ``kind``, the
    Telegram ``chat_id``; ``dry_run`` formats the payloads and posts nothing."""

    url: str | None
    kind: str = "slack"
    chat_id: str | None = None
    dry_run: bool = False
    timeout: float = 10.0
    retry_delay: float = 1.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise WebhookError(f"unknown webhook kind {self.kind!r}; choose one of "
                               f"{', '.join(KINDS)}")
        if self.kind == "telegram" and not self.chat_id:
            raise WebhookError("a Telegram webhook needs a chat id (--telegram-chat or "
                               "OTKLIK_TELEGRAM_CHAT)")
        if not self.url and not self.dry_run:
            raise WebhookError("a webhook needs a url (or a dry run)")
        parts = urllib.parse.urlsplit(self.url or "http://dry.run")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise WebhookError(f"webhook url must be http:// or https://, "
                               f"got {_redact(self.url)!r}")


def incident_state(incident: Mapping) -> tuple[str, float]:
    """``(phase, posts)``: open, or ended (over, or resolved by a person), and its posts."""
    ended = incident.get("state") == "ended" or incident.get("status") == "resolved"
    return ("ended" if ended else "open"), float(incident.get("posts") or 0)


def change_to_post(incident: Mapping) -> str | None:
    """The news in an incident against ``incident["sent"]`` (the state last delivered, or
    None): 'opened' (never posted), 'grown' (open, with ``GROWTH`` times the posts posted),
    'ended', or None when there is nothing new to say."""
    phase, observed = incident_state(incident)
    sent = incident.get("sent")
    if sent is None:
        return "opened"
    if sent["phase"] == "ended":
        return None
    if phase == "ended":
        return "ended"
    if observed > sent["observed"] and observed >= GROWTH * sent["observed"]:
        return "grown"
    return None


def deliver_incidents(db: Database, target: WebhookTarget, now: datetime) -> dict:
    """Post every incident change not delivered yet, one message per incident; returns
    ``{"sent", "failed", "payloads"}`` (``payloads``: what a dry run would post; a dry run
    records nothing).

    A failed post is logged with its reason and recorded as failed; the next run tries the
    incident again, since its state is still undelivered.
    """
    since = (now - timedelta(days=RECENT_DAYS)).replace(microsecond=0).isoformat()
    result = {"sent": 0, "failed": 0, "payloads": []}
    for incident in incidents_for_delivery(db, since):
        event = change_to_post(incident)
        if event is None:
            continue
        message = {**incident, "event": event,
                   "examples": example_posts(db, incident["example_ids"])}
        if target.dry_run:
            result["payloads"].append(payload(message, target.kind, target.chat_id))
            continue
        phase, observed = incident_state(incident)
        try:
            send(message, target.url, target.kind, dry_run=False, chat_id=target.chat_id,
                 timeout=target.timeout, retry_delay=target.retry_delay)
        except WebhookError as error:
            log.warning("incident %s (%s, %s) not posted, will retry next run: %s",
                        incident["id"], incident["brand"], event, error)
            record_incident_delivery(db, incident["id"], phase, observed, event, str(error))
            result["failed"] += 1
            continue
        record_incident_delivery(db, incident["id"], phase, observed, event)
        result["sent"] += 1
    return result
