"""Where a post block shows its date: machine-readable attributes first, then date-hinted
elements, then date-looking text, leaving out registration and edit dates. Pure functions
over lxml elements; the texts are read by ``crawlers.dates``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from crawlers.post_text import classes, is_edit_notice

DATE_TEXT = re.compile(
    r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}|"
    r"\b(?:today|yesterday|ago|сегодня|вчера|назад|сьогодні|вчора|тому|"
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|"
    r"янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек|"
    r"січ|лют|берез|квіт|трав|черв|лип|серп|верес|жовт|листоп|груд|"
    r"mon|tue|wed|thu|fri|sat|sun|пн|вт|ср|чт|пт|сб|вс|нд)",
    re.IGNORECASE)
DATE_ATTRIBUTES = ("datetime", "data-time", "data-timestamp", "data-datetime", "title",
                   "data-date", "data-value")
def date_candidates(block, outside: list) -> list[str]:
    """Date candidates outside the body: machine-readable attributes first, then the text of
    date-hinted elements, then date-looking text pieces (edit notices left out)."""
    attributes, whole, texts, containers = [], [], [], []
    notices = {id(e) for element in outside if is_edit_notice(element) for e in element.iter()}
    for element in outside:
        if id(element) in notices or element.tag in ("script", "style"):
            continue
        for attribute in DATE_ATTRIBUTES:
            value = (element.get(attribute) or "").strip()
            if not value or (attribute == "title" and element.tag not in ("abbr", "time",
                                                                          "span")):
                continue
            if value.isdigit() and attribute in ("data-time", "data-timestamp"):
                attributes.append(datetime.fromtimestamp(int(value), UTC).isoformat())
            elif DATE_TEXT.search(value) and re.search(r"\d", value):
                attributes.append(value)
        label = element.getprevious()
        if (label is not None and isinstance(label.tag, str)
                and NOT_POST_DATE.search(label.text_content() or "")):
            continue  # <dt>Registered:</dt><dd>2019-03-11</dd>
        if DATE_HINT.search(classes(element)) or element.tag == "time":
            text = " ".join((element.text_content() or "").split())
            if text and len(text) <= 80 and DATE_TEXT.search(text):
                whole.append(text)
        whole_text = " ".join((element.text_content() or "").split())
        start = DATE_START.search(whole_text) if len(whole_text) <= 100 else None
        if start and not NOT_POST_DATE.search(whole_text):
            # "« Reply #3 on: <b>Yesterday</b> at 09:05:09 PM »"
            containers.append(whole_text[start.start():].strip(" »«|-–—,"))
        own_label = NOT_POST_DATE.search(element.text or "")
        for text in (element.text, element.tail if element is not block and not own_label
                     else None):
            text = " ".join((text or "").split()).strip(" »«|-–—,")
            if (text and len(text) <= 80 and DATE_TEXT.search(text)
                    and RELATIVE_OR_DIGIT.search(text) and not BARE_DAY.match(text)):
                texts.append(LABEL_PREFIX.sub("", text))
    # an attribute with a time of day first; a date alone ("11-19-2026" in a title) after
    # the texts, which may add the time ("Yesterday, 09:05 PM")
    timed = [value for value in attributes if re.search(r"\d:\d|T\d|^\d{9,}", value)]
    untimed = [value for value in attributes if value not in timed]
    found = [c for c in dict.fromkeys(timed + whole + texts + containers + untimed)
             if not NOT_POST_DATE.search(c)]
    return found


LABEL_PREFIX = re.compile(r"^(?:posted|post(?:ed)?\s+on|date|дата|добавлено|отправлено|"
                          r"опубликовано|додано|надіслано|sent)\s*:?\s*", re.IGNORECASE)
NOT_POST_DATE = re.compile(r"regist|joined|join date|member since|дата регистрации|"
                           r"дата реєстрації|зарегистр|регистрац|зареєстр|"
                           r"реєстрац|с нами|на форуме с|last (?:visit|active)|был[аи]? "
                           r"на сайте|birthday|день рождения", re.IGNORECASE)


BARE_DAY = re.compile(r"^(?:today|yesterday|сегодня|вчера|сьогодні|вчора)$", re.IGNORECASE)
DATE_START = re.compile(
    r"\b(?:today|yesterday|сегодня|вчера|сьогодні|вчора|"
    r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|янв|фев|мар|апр|ма[йя]|"
    r"июн|июл|авг|сен|окт|ноя|дек|січ|лют|бер|кві|тра|чер|лип|сер|вер|жов|лис|гру)|"
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2})", re.IGNORECASE)
DATE_HINT = re.compile(r"date|time|posted|published|timestamp|postdetails", re.IGNORECASE)
RELATIVE_OR_DIGIT = re.compile(r"\d|ago|вчера|сегодня|вчора|сьогодні|yesterday|today",
                               re.IGNORECASE)
