"""Main-text extraction from article pages (the saved RSS fixtures and small cases)."""

from pathlib import Path

import pytest

from crawlers.article import extract_article

PAGES = Path(__file__).resolve().parent / "fixtures" / "rss" / "first"


def page(name: str, encoding: str = "utf-8") -> str:
    return (PAGES / name).read_bytes().decode(encoding).replace("{{BASE}}", "http://news.test")


def test_itemprop_article_body_without_widgets_ads_or_read_also():
    article = extract_article(page("news/2026/10/volna-tarify.html@utm_source=rss&utm_medium=feed"))
    assert article.method == "itemprop"
    assert article.text == (
        "С 1 декабря абонентская плата за домашний интернет Volna Home вырастет в среднем на "
        "10%. Об изменениях оператор сообщил клиентам в рассылке и в приложении «Моя Волна».\n\n"
        "Дороже станут все тарифы линейки, кроме самого медленного. Абоненты, подключившиеся "
        "в этом году, сохранят старую цену до конца договора.\n\n"
        "«Мы вкладываем в сеть больше, чем когда-либо», — заявили в пресс-службе Волны.\n\n"
        "Аналитики ожидают, что конкуренты последуют примеру до конца года."
    )
    assert "<blockquote>" in article.html


def test_article_element_without_comments_share_or_related():
    article = extract_article(page("ua/novyny/telenova-go.html", "windows-1251"))
    assert article.method == "article"
    assert article.text.startswith("Оператор «Теленова» з 1 листопада знижує вартість")
    assert article.text.endswith("у вересні Волна запустила дешевший Volna Smart.")
    for noise in ("Коментарі", "Переходжу з Волни", "Facebook", "Читайте також", "Олена Шевчук",
                  "5G у Львові", "© 2026"):
        assert noise not in article.text


def test_densest_paragraph_block_without_navigation_sidebar_or_footer():
    article = extract_article(page("news/2026/10/telenova-fiber-lviv.html"))
    assert article.method == "density"
    assert article.text.splitlines()[0] == "By Mark Doe, 30 October 2026"
    assert "Telenova Fiber is now available in three districts of Lviv" in article.text
    assert article.text.endswith("Volna still sells only DSL in the region.")
    for noise in ("Read also", "How to choose a router", "Most read", "Share this story",
                  "Subscribe", "All rights reserved"):
        assert noise not in article.text


def test_old_table_layout_in_windows_1251():
    article = extract_article(page("news/2026/10/zima.html", "windows-1251"))
    assert article.method == "density"
    assert article.text.startswith("Морозы — главное испытание для базовых станций")
    assert "Абоненты Теленовы в пригородах" in article.text
    assert "Гость" not in article.text and "31.10.2026" not in article.text


def test_bytes_are_decoded_from_the_meta_charset():
    raw = (PAGES / "ua/novyny/telenova-go.html").read_bytes()
    article = extract_article(raw)
    assert "Експерти пов'язують знижку з конкуренцією" in article.text


def test_a_page_without_article_text_fails():
    assert extract_article(page("news/2026/10/volna-tv-video.html")) is None
    assert extract_article("") is None
    assert extract_article("<html><body><p>Коротко.</p></body></html>") is None


@pytest.mark.parametrize("wrapper", [
    '<div class="site has-comments">{}</div>',
    '<div class="layout with-sidebar">{}</div>',
])
def test_a_wrapper_with_an_unlucky_class_is_not_dropped(wrapper):
    story = "<p>" + "Абонентов Волны ждёт новый тариф с безлимитным интернетом. " * 4 + "</p>"
    html = "<html><body>" + wrapper.format(f"<div class='text'>{story}{story}</div>") + \
        "</body></html>"
    article = extract_article(html)
    assert article is not None and article.text.startswith("Абонентов Волны")


def test_comment_articles_and_read_also_lists_are_dropped():
    body = "<p>" + "Главная новость дня про сеть оператора и его абонентов. " * 4 + "</p>"
    comment = "<p>" + "Комментарий читателя. " * 10 + "</p>"
    html = f"""<html><body>
      <article class="post"><h1>Заголовок</h1>{body}
        <h3>Читайте также</h3><ul><li><a href="/1">Другая новость</a></li></ul>
        <p>Смотрите также: <a href="/2">Ещё одна новость</a></p>
      </article>
      <div id="comments"><article class="comment">{comment}</article></div>
    </body></html>"""
    article = extract_article(html)
    assert article.method == "article"
    assert article.text == " ".join(["Главная новость дня про сеть оператора и его абонентов."] * 4)


def test_xml_declaration_and_hidden_blocks():
    text = "Текст статьи о тарифах и сетях, достаточно длинный для извлечения. " * 3
    html = f"""<?xml version="1.0" encoding="utf-8"?>
      <html><body><div itemprop="articleBody"><p>{text}</p>
      <div hidden><p>Скрытая подписка на рассылку.</p></div>
      <div aria-hidden="true"><p>Ещё скрытое.</p></div>
      <script>var x = "Текст";</script></div></body></html>"""
    article = extract_article(html)
    assert article.text == text.strip()


def test_a_paragraph_that_merely_starts_like_read_also_stays():
    text = "Related costs rose sharply this year, the operator said in its quarterly report. " * 2
    html = f"<html><body><article><p>{text}</p><p>Read also: <a href='/x'>Prices</a></p>" \
           f"</article></body></html>"
    article = extract_article(html)
    assert article.text == text.strip()
