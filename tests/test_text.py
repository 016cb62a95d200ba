import pytest

from crawlers.items import Mention
from crawlers.pipelines import clean_mention, is_empty
from crawlers.text import (
    close_runaway_comments,
    has_visible_text,
    html_to_text,
    normalise_text,
)


def test_html_to_text_keeps_line_breaks_and_drops_scripts():
    html = ("<p>Привет,&nbsp;всем!</p><p>Волна <b>опять</b> списала<br>деньги 😡</p>"
            "<script>alert(1)</script><img src=x alt='🙂'>")
    assert html_to_text(html) == "Привет, всем!\n\nВолна опять списала\nденьги 😡\n🙂"


def test_normalise_text_composes_and_strips_invisible_characters():
    assert normalise_text("Їжак\u200b  i\u0308\u00ad  \n\n\n\nok") == "Їжак ï\n\nok"


def test_clean_mention_keeps_quotes_apart_from_own_words():
    mention = Mention(
        source="forum", url="https://f.example/p/1",
        body_html="<div>Согласен, <i>ужас</i>.</div>",
        quotes=[{"author": "olena", "html": "<div>Третий день без интернета</div>"},
                {"author": None, "html": "  "}],
        title="  Нет   связи ",
    )
    cleaned = clean_mention(mention)
    assert cleaned.text == "Согласен, ужас."
    assert cleaned.quotes == [{"author": "olena", "text": "Третий день без интернета"}]
    assert cleaned.title == "Нет связи"
    assert cleaned.body_html == ""


def test_emoji_sequences_keep_their_joiners():
    assert normalise_text("ну 🤦\u200d♀️ 👨\u200d👩\u200d👧") == "ну 🤦\u200d♀️ 👨\u200d👩\u200d👧"


@pytest.mark.parametrize(("html", "closed"), [
    ("a <!-- b", "a &lt;!-- b"),  # never closed
    ("a <!-- b <!-- c --> d", "a &lt;!-- b <!-- c --> d"),  # closed only by a later comment
    ("<!-- ok --> y <!-- z", "<!-- ok --> y &lt;!-- z"),
    ("<!-- a <!-- b <!-- c --> d <!-- e", "&lt;!-- a &lt;!-- b <!-- c --> d &lt;!-- e"),
])
def test_runaway_comment_openers_become_text(html, closed):
    assert close_runaway_comments(html) == closed


@pytest.mark.parametrize("html", [
    "p<!--a-->q<!--b-->r", "<!-->x", "<!--->x", "<!--[if !IE]><!-->x<!--<![endif]-->", "plain",
])
def test_well_formed_comments_stay(html):
    assert close_runaway_comments(html) == html


def test_html_to_text_keeps_the_words_after_a_stray_comment_opener():
    html = "<p>Пишу <!-- так</p><p>и дальше</p><!-- служебный -->"
    assert html_to_text(html) == "Пишу <!-- так\n\nи дальше"


@pytest.mark.parametrize("body_html", [
    "", "   \n\t ", "&nbsp;&nbsp;", "<p>&#160;</p>", "\u200b\u200c\u200d\u2060\ufeff",
    "<br><br/><br />", "<div><p> </p></div>", "\u3164", "\u2800\u2800", "\u3000\u2003",
])
def test_posts_with_no_visible_words_are_empty_whatever_their_title(body_html):
    mention = clean_mention(Mention(source="forum", url="https://f.example/p/2",
                                    body_html=body_html, title="Re: Нет связи"))
    assert not has_visible_text(mention.text)
    assert is_empty(mention)


def test_a_word_a_quote_an_emoji_or_an_articles_headline_is_not_empty():
    def cleaned(**fields):
        return clean_mention(Mention(source="s", url="https://s.example/1", **fields))

    assert not is_empty(cleaned(body_html="&nbsp;ок&nbsp;"))
    assert not is_empty(cleaned(body_html="👍"))
    assert not is_empty(cleaned(body_html="<br>", quotes=[{"author": "a", "html": "<p>да</p>"}]))
    assert is_empty(cleaned(body_html="<br>", quotes=[{"author": "a", "html": "&#8203;"}]))
    assert not is_empty(cleaned(kind="article", title="Volna raises prices"))
    assert is_empty(cleaned(kind="article", title="\u200b "))
