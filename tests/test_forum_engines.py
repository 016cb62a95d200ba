"""HTML forum engines (crawlers/engines.yaml) read by the forum spider: phpBB, XenForo 2,
vBulletin 4, SMF 2.1 and Invision Community 4.

Every engine has a fixture site under ``tests/fixtures/<engine>/`` telling the same kind of
story (customers of the fictional operator Volna, some of them moving to Telenova): a board of
two pages, a topic of two pages with a quote, a nested quote and an edited post, a topic with
a quote that names nobody, one broken topic (a post without a date, or a page cut short) and
an older topic. The ``later`` layer adds a reply to the long topic and edits an earlier post
of it. vBulletin pages are windows-1251 declared only by the HTTP header, SMF pages
windows-1251 declared only by ``<meta http-equiv>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, run_crawl, write_sources
from fixture_server import start_fixture_server
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

import store
from crawlers import engines as engines_module
from crawlers.engines import engine, engines, load_engine
from crawlers.forum_pages import post_url, thread_id
from crawlers.items import Mention
from crawlers.pipelines import clean_mention
from crawlers.spiders.forum import ForumSpider

BASE = "http://forum.test"


@dataclass(frozen=True)
class Post:
    url: str  # relative to the site's base URL
    author: str
    profile: str | None
    published: str
    text: str
    quotes: tuple = ()  # (author, text) pairs
    edited: str | None = None  # the edit notice as shown
    edited_at: str | None = None


@dataclass(frozen=True)
class Site:
    path: str  # the forum's folder on the site
    boards: tuple[str, ...]
    timezone: str
    board_pages: tuple[str, str]  # request targets of the board's two pages
    changed: tuple[str, str]  # the long topic's two pages (it gains a reply later)
    unchanged: tuple[str, ...]  # topics that never change
    broken: str  # the broken topic's page
    broken_reason: str
    topics: dict  # thread id → title
    posts: tuple[Post, ...]
    edited_later: Post  # the long topic's earlier post as edited in the later layer
    new_later: Post  # the reply the later layer adds


SITES = {
    "xenforo": Site(
        path="", boards=("forums/mobile-internet.3/",), timezone="Europe/Kyiv",
        board_pages=("/forums/mobile-internet.3/", "/forums/mobile-internet.3/page-2"),
        changed=("/threads/volna-5g-evening-speed.101/",
                 "/threads/volna-5g-evening-speed.101/page-2"),
        unchanged=("/threads/roaming-poland-charged-twice.98/",
                   "/threads/coverage-map-outdated.90/"),
        broken="/threads/telenova-esim-activation.95/", broken_reason="bad_date",
        topics={"101": "Volna 5G: швидкість падає ввечері",
                "98": "Roaming in Poland charged twice",
                "95": "Telenova eSIM: активація через застосунок",
                "90": "Volna coverage map outdated?"},
        posts=(
            Post("/posts/900/", "mark_t", "/members/mark_t.21/", "2026-10-20T16:30:00+00:00",
                 "The coverage map shows 4G in Vasylkiv, but I get only 3G on the main square."),
            Post("/posts/901/", "Volna_Support", "/members/volna_support.5/",
                 "2026-10-21T09:10:00+00:00",
                 "Thanks, the map is updated weekly; the new 4G site in Vasylkiv goes live in "
                 "November."),
            Post("/posts/950/", "ivan_h", "/members/ivan_h.33/", "2026-10-25T14:00:00+00:00",
                 "Перейшов у Telenova, eSIM активувалась за 5 хвилин. У Volna для цього треба "
                 "було йти в салон."),
            Post("/posts/980/", "anna_w", "/members/anna_w.30/", "2026-10-30T10:00:00+00:00",
                 "Bought the «Europe 7 days» roaming pack for 199 UAH and Volna charged it on "
                 "day one and again on day two."),
            Post("/posts/981/", "taras", None, "2026-10-31T08:20:00+00:00",
                 "Check the SMS log and call 0 800 300 500: they refunded the second charge "
                 "within a day.",
                 ((None, "charged it on day one and again on day two."),)),
            Post("/posts/1001/", "oksana_k", "/members/oksana_k.12/",
                 "2026-11-02T17:40:00+00:00",
                 "Після переходу на тариф «Volna Max» 5G на Оболоні ввечері дає 3 Мбіт/с. "
                 "Вдень — понад 200."),
            Post("/posts/1002/", "dmytro_lviv", "/members/dmytro_lviv.14/",
                 "2026-11-02T18:05:00+00:00",
                 "У Львові те саме після 20:00. Підтримка каже «перевантаження мережі».",
                 (("oksana_k", "5G на Оболоні ввечері дає 3 Мбіт/с."),)),
            Post("/posts/1003/", "mark_t", "/members/mark_t.21/", "2026-11-02T19:30:00+00:00",
                 "Same in Kharkiv. Telenova gives me 40 Mbps at the same spot, so it is not my "
                 "phone.",
                 (("dmytro_lviv", "5G на Оболоні ввечері дає 3 Мбіт/с.\n\n"
                                  "У Львові те саме після 20:00."),),
                 "Last edited: Nov 2, 2026", "2026-11-02T19:48:00+00:00"),
            Post("/posts/1004/", "Volna_Support", "/members/volna_support.5/",
                 "2026-11-03T08:15:00+00:00",
                 "Дякуємо, передали інженерам. Розширення ємності на Оболоні заплановане до "
                 "10 листопада."),
            Post("/posts/1005/", "oksana_k", "/members/oksana_k.12/",
                 "2026-11-03T09:02:00+00:00",
                 "Чекаємо. Якщо не виправлять — переходжу до Telenova."),
        ),
        edited_later=Post(
            "/posts/1002/", "dmytro_lviv", "/members/dmytro_lviv.14/",
            "2026-11-02T18:05:00+00:00",
            "У Львові те саме після 20:00. Підтримка каже «перевантаження мережі». "
            "UPD: після 22:00 знову нормально.",
            (("oksana_k", "5G на Оболоні ввечері дає 3 Мбіт/с."),),
            "Last edited: Nov 4, 2026", "2026-11-04T07:10:00+00:00"),
        new_later=Post(
            "/posts/1006/", "Volna_Support", "/members/volna_support.5/",
            "2026-11-10T12:00:00+00:00",
            "Роботи завершено: на Оболоні додали два сектори 5G. Перевірте, будь ласка, "
            "швидкість увечері."),
    ),
    "vbulletin": Site(
        path="forum/", boards=("forumdisplay.php?f=7",), timezone="Europe/Moscow",
        board_pages=("/forum/forumdisplay.php?f=7", "/forum/forumdisplay.php?f=7&page=2"),
        changed=("/forum/showthread.php?t=501", "/forum/showthread.php?t=501&page=2"),
        unchanged=("/forum/showthread.php?t=498", "/forum/showthread.php?t=490"),
        broken="/forum/showthread.php?t=495", broken_reason="truncated_page",
        topics={"501": "Волна списывает за «Кино+», хотя я не подключал",
                "498": "Роуминг в Турции: пакет не активировался",
                "490": "Волна: не приходят SMS с кодами банков"},
        posts=(
            Post("/forum/showthread.php?p=4900#post4900", "dmitry_k", "/forum/member.php?u=130",
                 "2026-10-28T15:00:00+00:00",
                 "С понедельника не приходят SMS от банка. От остальных приходят."),
            Post("/forum/showthread.php?p=4901#post4901", "Volna_Official",
                 "/forum/member.php?u=103", "2026-10-28T16:30:00+00:00",
                 "Был сбой у агрегатора, с 16:00 доставка восстановлена."),
            Post("/forum/showthread.php?p=4980#post4980", "olga_t", "/forum/member.php?u=121",
                 "2026-11-01T06:40:00+00:00",
                 "Купила пакет «Турция 5 ГБ» за 590 руб., в Анталье интернета нет совсем."),
            Post("/forum/showthread.php?p=4981#post4981", "Антон", None,
                 "2026-11-01T07:15:00+00:00",
                 "Перезагрузите телефон и выберите сеть вручную, мне помогло.",
                 ((None, "в Анталье интернета нет совсем"),)),
            Post("/forum/showthread.php?p=5001#post5001", "sergey_msk",
                 "/forum/member.php?u=112", "2026-11-05T09:10:00+00:00",
                 "Третий месяц подряд списывают 149 руб. за «Кино+». В личном кабинете "
                 "подписки нет."),
            Post("/forum/showthread.php?p=5002#post5002", "irina_v", "/forum/member.php?u=115",
                 "2026-11-05T09:45:00+00:00",
                 "Та же история. Отключила через *105*3#, вернули только за последний месяц.",
                 (("sergey_msk", "Третий месяц подряд списывают 149 руб. за «Кино+»."),)),
            Post("/forum/showthread.php?p=5003#post5003", "petrovich",
                 "/forum/member.php?u=118", "2026-11-05T10:30:00+00:00",
                 "Пишите письменную претензию: обязаны вернуть за все три месяца. С Теленовой "
                 "было то же самое в прошлом году.",
                 (("irina_v", "Третий месяц подряд списывают 149 руб. за «Кино+».\n\n"
                              "Отключила через *105*3#, вернули только за последний месяц."),),
                 "Последний раз редактировалось petrovich; 05.11.2026 в 14:02.",
                 "2026-11-05T11:02:00+00:00"),
            Post("/forum/showthread.php?p=5004#post5004", "Volna_Official",
                 "/forum/member.php?u=103", "2026-11-05T13:20:00+00:00",
                 "Проверили: подписку активировали по SMS-коду с короткого номера. Вернём "
                 "447 руб. в течение 3 дней."),
            Post("/forum/showthread.php?p=5005#post5005", "sergey_msk",
                 "/forum/member.php?u=112", "2026-11-06T08:05:00+00:00",
                 "Никакого кода я не вводил, но деньги вернули. Спасибо."),
        ),
        edited_later=Post(
            "/forum/showthread.php?p=5002#post5002", "irina_v", "/forum/member.php?u=115",
            "2026-11-05T09:45:00+00:00",
            "Та же история. Отключила через *105*3#, вернули только за последний месяц. "
            "UPD: после претензии вернули всё.",
            (("sergey_msk", "Третий месяц подряд списывают 149 руб. за «Кино+»."),),
            "Последний раз редактировалось irina_v; 07.11.2026 в 13:00.",
            "2026-11-07T10:00:00+00:00"),
        new_later=Post(
            "/forum/showthread.php?p=5006#post5006", "irina_v", "/forum/member.php?u=115",
            "2026-11-12T17:45:00+00:00",
            "Итог: вернули 447 руб., подписку заблокировали по заявлению."),
    ),
    "smf": Site(
        path="", boards=("index.php?board=4.0",), timezone="Europe/Kyiv",
        board_pages=("/index.php?board=4.0", "/index.php?board=4.2"),
        changed=("/index.php?topic=301.0", "/index.php?topic=301.3"),
        unchanged=("/index.php?topic=298.0", "/index.php?topic=290.0"),
        broken="/index.php?topic=295.0", broken_reason="truncated_page",
        topics={"301": "Volna: зв'язок пропадає в метро",
                "298": "Роумінг у Польщі: подвійне списання",
                "290": "Швидкість 4G у Броварах"},
        posts=(
            Post("/index.php?topic=290.msg2900#msg2900", "ihor",
                 "/index.php?action=profile;u=25", "2026-10-27T10:00:00+00:00",
                 "Ввечері 4G у Броварах ледь 2 Мбіт/с."),
            Post("/index.php?topic=290.msg2901#msg2901", "Volna_UA",
                 "/index.php?action=profile;u=3", "2026-10-27T13:30:00+00:00",
                 "Передали інженерам, у листопаді додамо частоти."),
            Post("/index.php?topic=298.msg2980#msg2980", "andrey",
                 "/index.php?action=profile;u=22", "2026-11-02T18:00:00+00:00",
                 "Списали абонплату за роуминг дважды за один день, 199 грн каждый раз."),
            Post("/index.php?topic=298.msg2981#msg2981", "Олег", None,
                 "2026-11-02T19:10:00+00:00",
                 "Пишіть у чат підтримки, мені повернули за годину.",
                 ((None, "Списали абонплату за роуминг дважды"),)),
            Post("/index.php?topic=301.msg3001#msg3001", "oksana",
                 "/index.php?action=profile;u=12", "2026-11-06T06:30:00+00:00",
                 "На синій гілці між «Почайною» та «Тарасівською» зв'язок Volna зникає "
                 "повністю. У Telenova працює."),
            Post("/index.php?topic=301.msg3002#msg3002", "vasyl_k",
                 "/index.php?action=profile;u=17", "2026-11-06T07:05:00+00:00",
                 "Підтверджую, дзвінки обриваються вже тиждень.",
                 (("oksana", "зв'язок Volna зникає повністю."),)),
            Post("/index.php?topic=301.msg3003#msg3003", "nadia",
                 "/index.php?action=profile;u=19", "2026-11-06T08:40:00+00:00",
                 "Це через ремонт базової станції на «Почайній», так писали в новинах.",
                 (("vasyl_k", "зв'язок Volna зникає повністю.\n"
                              "дзвінки обриваються вже тиждень."),),
                 "Остання зміна: 06 листопада 2026, 11:15:00 від nadia",
                 "2026-11-06T09:15:00+00:00"),
            Post("/index.php?topic=301.msg3004#msg3004", "Volna_UA",
                 "/index.php?action=profile;u=3", "2026-11-06T12:00:00+00:00",
                 "Вибачте за незручності. Обладнання в метро замінимо до 15 листопада."),
            Post("/index.php?topic=301.msg3005#msg3005", "oksana",
                 "/index.php?action=profile;u=12", "2026-11-07T07:20:00+00:00",
                 "Дякую, чекаємо."),
        ),
        edited_later=Post(
            "/index.php?topic=301.msg3002#msg3002", "vasyl_k", "/index.php?action=profile;u=17",
            "2026-11-06T07:05:00+00:00",
            "Підтверджую, дзвінки обриваються вже тиждень. Сьогодні вже краще.",
            (("oksana", "зв'язок Volna зникає повністю."),),
            "Остання зміна: 08 листопада 2026, 08:00:00 від vasyl_k",
            "2026-11-08T06:00:00+00:00"),
        new_later=Post(
            "/index.php?topic=301.msg3006#msg3006", "vasyl_k", "/index.php?action=profile;u=17",
            "2026-11-16T08:00:00+00:00", "Після 15-го все працює, навіть 4G на станціях."),
    ),
    "invision": Site(
        path="", boards=("forum/6-volna-tariffs/",), timezone="UTC",
        board_pages=("/forum/6-volna-tariffs/", "/forum/6-volna-tariffs/page/2/"),
        changed=("/topic/201-volna-unlimited-throttled-after-20-gb/",
                 "/topic/201-volna-unlimited-throttled-after-20-gb/page/2/"),
        unchanged=("/topic/198-esim-for-smartwatch/", "/topic/190-bill-premium-sms/"),
        broken="/topic/195-roaming-in-georgia/", broken_reason="bad_date",
        topics={"201": "Volna Unlimited throttled after 20 GB", "198": "eSIM for smartwatch?",
                "195": "Roaming in Georgia", "190": "Bill shows charges for premium SMS"},
        posts=(
            Post("/topic/190-bill-premium-sms/?do=findComment&comment=1900", "olena",
                 "/profile/47-olena/", "2026-10-29T08:00:00+00:00",
                 "My bill has 3 premium SMS at 25 UAH each that I never sent."),
            Post("/topic/190-bill-premium-sms/?do=findComment&comment=1901", "Volna Team",
                 "/profile/2-volna-team/", "2026-10-29T10:45:00+00:00",
                 "We blocked premium SMS on your number and refunded 75 UAH."),
            Post("/topic/195-roaming-in-georgia/?do=findComment&comment=1950", "giorgi",
                 "/profile/45-giorgi/", "2026-11-01T12:00:00+00:00",
                 "Roaming in Tbilisi works fine with the Travel pack."),
            Post("/topic/198-esim-for-smartwatch/?do=findComment&comment=1980", "kate_m",
                 "/profile/44-kate_m/", "2026-11-04T15:00:00+00:00",
                 "Does Volna support eSIM for Apple Watch?"),
            Post("/topic/198-esim-for-smartwatch/?do=findComment&comment=1981", "Nik", None,
                 "2026-11-04T16:10:00+00:00", "Yes, but only on the Max plans.",
                 ((None, "Does Volna support eSIM for Apple Watch?"),)),
            Post("/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2001",
                 "alex_r", "/profile/41-alex_r/", "2026-11-08T10:00:00+00:00",
                 "My «Unlimited» plan drops to 1 Mbps after 20 GB. Nothing about that in the "
                 "contract."),
            Post("/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2002",
                 "Марина", "/profile/42-марина/", "2026-11-08T10:40:00+00:00",
                 "Аналогично, после 20 ГБ скорость режут. В договоре мелким шрифтом «fair use».",
                 (("alex_r", "drops to 1 Mbps after 20 GB."),)),
            Post("/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2003",
                 "ben_k", "/profile/43-ben_k/", "2026-11-08T12:15:00+00:00",
                 "Telenova has a real unlimited for the same price. I switched last month.",
                 (("Марина", "drops to 1 Mbps after 20 GB.\n\nпосле 20 ГБ скорость режут."),),
                 "Edited November 8 by ben_k", "2026-11-08T12:30:00+00:00"),
            Post("/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2004",
                 "Volna Team", "/profile/2-volna-team/", "2026-11-09T09:00:00+00:00",
                 "The fair use limit applies to the old Unlimited plan. Unlimited 2.0 has no "
                 "limit; switching is free in the app."),
            Post("/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2005",
                 "alex_r", "/profile/41-alex_r/", "2026-11-09T11:20:00+00:00",
                 "Switched to 2.0, no throttling so far."),
        ),
        edited_later=Post(
            "/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2002",
            "Марина", "/profile/42-марина/", "2026-11-08T10:40:00+00:00",
            "Аналогично, после 20 ГБ скорость режут. В договоре мелким шрифтом «fair use». "
            "Перешла на 2.0 — проблема ушла.",
            (("alex_r", "drops to 1 Mbps after 20 GB."),),
            "Edited November 10 by Марина", "2026-11-10T08:00:00+00:00"),
        new_later=Post(
            "/topic/201-volna-unlimited-throttled-after-20-gb/?do=findComment&comment=2006",
            "ben_k", "/profile/43-ben_k/", "2026-11-14T19:00:00+00:00",
            "Good to hear. Still staying with Telenova though."),
    ),
    "phpbb": Site(
        path="forum/", boards=("viewforum.php?f=3",), timezone="Europe/Moscow",
        board_pages=("/forum/viewforum.php?f=3", "/forum/viewforum.php?f=3&start=2"),
        changed=("/forum/viewtopic.php?t=701", "/forum/viewtopic.php?t=701&start=3"),
        unchanged=("/forum/viewtopic.php?t=698", "/forum/viewtopic.php?t=690"),
        broken="/forum/viewtopic.php?t=695", broken_reason="bad_date",
        topics={"701": "Домашний интернет Volna Home: обрывы каждый вечер",
                "698": "Смена тарифа без согласия", "695": "Роутер от Volna греется",
                "690": "Скорость по тарифу 300 Мбит/с"},
        posts=(
            Post("/forum/viewtopic.php?p=6900#p6900", "sveta",
                 "/forum/memberlist.php?mode=viewprofile&u=58", "2026-10-30T18:00:00+00:00",
                 "По тесту 120 Мбит/с вместо 300."),
            Post("/forum/viewtopic.php?p=6901#p6901", "Volna_Helpdesk",
                 "/forum/memberlist.php?mode=viewprofile&u=51", "2026-10-30T19:00:00+00:00",
                 "Проверьте по кабелю, Wi-Fi 2.4 ГГц больше 150 не даст."),
            Post("/forum/viewtopic.php?p=6950#p6950", "oleg",
                 "/forum/memberlist.php?mode=viewprofile&u=56", "2026-11-02T10:00:00+00:00",
                 "Роутер от Volna сильно греется, это нормально?"),
            Post("/forum/viewtopic.php?p=6980#p6980", "alexey",
                 "/forum/memberlist.php?mode=viewprofile&u=55", "2026-11-05T12:00:00+00:00",
                 "Мне сменили тариф на более дорогой без моего согласия."),
            Post("/forum/viewtopic.php?p=6981#p6981", "Гость", None, "2026-11-05T13:00:00+00:00",
                 "Требуйте перерасчёт письменно, мне вернули разницу.",
                 ((None, "сменили тариф на более дорогой"),)),
            Post("/forum/viewtopic.php?p=7001#p7001", "marina_kh",
                 "/forum/memberlist.php?mode=viewprofile&u=52", "2026-11-09T17:00:00+00:00",
                 "Каждый вечер с 21:00 до 23:00 роутер теряет связь. Тариф «Volna Home 500»."),
            Post("/forum/viewtopic.php?p=7002#p7002", "taras_ua",
                 "/forum/memberlist.php?mode=viewprofile&u=53", "2026-11-09T17:35:00+00:00",
                 "Маю те саме на Троєщині, інженер приходив двічі.",
                 (("marina_kh", "Каждый вечер с 21:00 до 23:00 роутер теряет связь."),)),
            Post("/forum/viewtopic.php?p=7003#p7003", "john_d",
                 "/forum/memberlist.php?mode=viewprofile&u=54", "2026-11-09T19:10:00+00:00",
                 "Same for me. Telenova fibre in the same building has no drops.",
                 (("taras_ua", "Каждый вечер с 21:00 до 23:00 роутер теряет связь.\n\n"
                               "інженер приходив двічі."),),
                 "Последний раз редактировалось john_d 09 ноя 2026, 22:25, всего "
                 "редактировалось 1 раз.", "2026-11-09T19:25:00+00:00"),
            Post("/forum/viewtopic.php?p=7004#p7004", "Volna_Helpdesk",
                 "/forum/memberlist.php?mode=viewprofile&u=51", "2026-11-10T08:30:00+00:00",
                 "Нашли перегруженный узел, замена оборудования 12 ноября."),
            Post("/forum/viewtopic.php?p=7005#p7005", "marina_kh",
                 "/forum/memberlist.php?mode=viewprofile&u=52", "2026-11-10T09:00:00+00:00",
                 "Спасибо, отпишусь после 12-го."),
        ),
        edited_later=Post(
            "/forum/viewtopic.php?p=7002#p7002", "taras_ua",
            "/forum/memberlist.php?mode=viewprofile&u=53", "2026-11-09T17:35:00+00:00",
            "Маю те саме на Троєщині, інженер приходив двічі. Оновлення: після заміни все "
            "стабільно.",
            (("marina_kh", "Каждый вечер с 21:00 до 23:00 роутер теряет связь."),),
            "Последний раз редактировалось taras_ua 13 ноя 2026, 10:00, всего "
            "редактировалось 1 раз.", "2026-11-13T07:00:00+00:00"),
        new_later=Post(
            "/forum/viewtopic.php?p=7006#p7006", "marina_kh",
            "/forum/memberlist.php?mode=viewprofile&u=52", "2026-11-13T20:00:00+00:00",
            "После 12-го ни одного обрыва. Вопрос закрыт."),
    ),
}
ENGINE_NAMES = list(SITES)


def _source(name: str, base_url: str, **extra) -> dict:
    site = SITES[name]
    return {"id": name, "kind": "forum", "url": f"{base_url}/{site.path}", "since_days": 36500,
            "options": {"engine": name, "boards": list(site.boards),
                        "timezone": site.timezone}, **extra}


# ---------------------------------------------------------------------------------------------
# Saved pages, as Scrapy would receive them from BASE

def _fixture_file(target: str, layer: str, name: str) -> Path:
    """The fixture file the loopback server answers ``target`` with (tests/fixture_server.py)."""
    path, _, query = target.partition("?")
    relative = path.lstrip("/")
    if not relative or relative.endswith("/"):
        relative += "index.html"
    return FIXTURES / name / layer / (f"{relative}@{query}" if query else relative)


def _content_type(file: Path) -> str:
    headers = file.with_name(file.name + ".headers")
    if headers.exists():
        return headers.read_text().split(":", 1)[1].strip()
    suffix = Path(file.name.split("@")[0]).suffix
    return "text/html; charset=utf-8" if suffix in (".html", ".php") else "text/html"


def _page(name: str, target: str, layer: str = "first", *, body: bytes | None = None,
          headers: dict | None = None) -> HtmlResponse:
    file = _fixture_file(target, layer, name)
    data = file.read_bytes() if body is None else body
    url = f"{BASE}{target}"
    return HtmlResponse(url, body=data.replace(b"{{BASE}}", BASE.encode()),
                        headers={"Content-Type": _content_type(file), **(headers or {})},
                        request=Request(url))


def _spider(tmp_path: Path, name: str, **extra) -> ForumSpider:
    site = SITES[name]
    options = {"engine": name, "boards": list(site.boards), "timezone": site.timezone,
               **extra.pop("options", {})}
    sources = write_sources(tmp_path / "sources.yaml",
                            {**_source(name, BASE), "options": options, **extra})
    crawler = get_crawler(ForumSpider, {"OTKLIK_SOURCES": str(sources),
                                        "OTKLIK_DB": str(tmp_path / "unit.db"),
                                        "OTKLIK_STORE_ENABLED": False})
    return ForumSpider.from_crawler(crawler, source=name)


def _split(output) -> tuple[list[Mention], list[Request]]:
    output = list(output)
    mentions = [clean_mention(item) for item in output if isinstance(item, Mention)]
    return mentions, [item for item in output if isinstance(item, Request)]


def _stats(spider) -> dict:
    return {key.removeprefix("otklik/"): value
            for key, value in spider.crawler.stats.get_stats().items()
            if key.startswith("otklik/")}


def _as_post(mention: Mention, base: str) -> Post:
    return Post(
        mention.url.removeprefix(base), mention.author_handle,
        mention.author_url.removeprefix(base) if mention.author_url else None,
        mention.published_at, mention.text,
        tuple((q["author"], q["text"]) for q in mention.quotes),
        mention.metadata.get("edited"), mention.edited_at)


# ---------------------------------------------------------------------------------------------
# Engines as data

def test_every_engine_loads_from_the_yaml_file():
    assert set(engines()) == {"phpbb", "xenforo", "vbulletin", "smf", "invision"}
    for name in engines():
        loaded = engine(name)
        assert loaded.topic_row and loaded.post and loaded.date and loaded.quote
    with pytest.raises(ValueError, match="unknown forum engine 'mybb'; known: invision"):
        engine("mybb")


def test_engine_definitions_are_checked():
    data = yaml.safe_load(engines_module.ENGINES_FILE.read_text(encoding="utf-8"))["xenforo"]
    assert load_engine("copy", data).post == ("article.message--post",)
    with pytest.raises(ValueError, match="unknown keys post_selector"):
        load_engine("bad", {**data, "post_selector": "div"})
    with pytest.raises(ValueError, match="missing keys post"):
        load_engine("bad", {k: v for k, v in data.items() if k != "post"})
    with pytest.raises(ValueError, match="thread_id_pattern is not a regex"):
        load_engine("bad", {**data, "thread_id_pattern": "(unclosed"})
    with pytest.raises(ValueError, match="must be a selector or a list"):
        load_engine("bad", {**data, "body": ["div.ok", 3]})


THREAD_URLS = [
    ("phpbb", "https://f.example/forum/viewtopic.php?f=2&t=701&start=10", "701"),
    ("phpbb", "https://f.example/forum/viewtopic.php?t=701&sid=0f3c1e8d5a", "701"),
    ("xenforo", "https://f.example/threads/volna-5g-evening-speed.101/page-2", "101"),
    ("xenforo", "https://f.example/threads/101/", "101"),
    ("vbulletin", "https://f.example/forum/showthread.php?501-Volna-spisyvaet/page2", "501"),
    ("vbulletin", "https://f.example/forum/showthread.php?t=501&page=2", "501"),
    ("smf", "https://f.example/index.php?topic=301.15", "301"),
    ("smf", "https://f.example/index.php?topic=301.msg3002#msg3002", "301"),
    ("invision", "https://f.example/topic/201-volna-unlimited/page/2/", "201"),
]


@pytest.mark.parametrize(("name", "url", "thread"), THREAD_URLS)
def test_thread_ids_from_every_url_style(tmp_path, name, url, thread):
    assert thread_id(url, engine(name)) == thread


def test_permalinks_with_a_title_slug_become_slug_free():
    vb, xf, smf = engine("vbulletin"), engine("xenforo"), engine("smf")
    assert post_url(f"{BASE}/forum/showthread.php?501-Volna-spisyvaet&p=5002#post5002", vb,
                    f"{BASE}/forum/") == f"{BASE}/forum/showthread.php?p=5002#post5002"
    assert post_url(f"{BASE}/threads/renamed-title.101/post-1002", xf, f"{BASE}/") == \
        f"{BASE}/posts/1002/"
    # already stable: kept as the page links it
    assert post_url(f"{BASE}/index.php?topic=301.msg3002#msg3002", smf, f"{BASE}/") == \
        f"{BASE}/index.php?topic=301.msg3002#msg3002"


# ---------------------------------------------------------------------------------------------
# Parsing saved pages

@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_board_page_gives_its_topics_then_the_next_page(tmp_path, name):
    site = SITES[name]
    spider = _spider(tmp_path, name)
    mentions, requests = _split(spider.parse_board(_page(name, site.board_pages[0])))
    assert mentions == []
    targets = [r.url.removeprefix(BASE) for r in requests]
    assert targets == [site.changed[0], site.unchanged[0], site.board_pages[1]]
    assert [r.cb_kwargs for r in requests[:2]] == [
        {"thread": list(site.topics)[0], "first": True},
        {"thread": list(site.topics)[1], "first": True}]
    assert requests[0].callback == spider.parse_topic
    assert requests[2].callback == spider.parse_board
    # Each topic's signature: what its row shows of it.
    signature = spider.seen_threads[list(site.topics)[0]]
    assert len(signature) == 3 and all(signature)
    # The last page has no next page.
    _, last = _split(spider.parse_board(_page(name, site.board_pages[1])))
    assert [r.url.removeprefix(BASE) for r in last] == [site.broken, site.unchanged[1]]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_board_page_with_nothing_new_fetches_nothing_more(tmp_path, name):
    site = SITES[name]
    first = _spider(tmp_path, name)
    list(first.parse_board(_page(name, site.board_pages[0])))
    again = _spider(tmp_path, name)
    again._known_threads = dict(first.seen_threads)  # as the store keeps them between crawls
    _, requests = _split(again.parse_board(_page(name, site.board_pages[0])))
    assert requests == []  # no topic, and not the board's next page
    assert _stats(again) == {"threads/unchanged": 2, "boards/stopped_unchanged": 1,
                             "strategy/board_selectors": 1}
    # The later layer's first page shows a new reply in one topic: only that one is fetched,
    # and the next page too, since this one was not all old.
    later = _spider(tmp_path, name)
    later._known_threads = dict(first.seen_threads)
    _, requests = _split(later.parse_board(_page(name, site.board_pages[0], "later")))
    assert [r.url.removeprefix(BASE) for r in requests] == [site.changed[0], site.board_pages[1]]


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_topic_pages_give_posts_with_authors_dates_quotes_and_edits(tmp_path, name):
    site = SITES[name]
    spider = _spider(tmp_path, name)
    base = BASE
    spider.seen_threads["x"] = ["4", "a", "b"]  # as the board page left it
    mentions, requests = _split(spider.parse_topic(_page(name, site.changed[0]), thread="x",
                                                   first=True))
    expected = [p for p in site.posts if p.url in {m.url.removeprefix(base) for m in mentions}]
    assert [_as_post(m, base) for m in mentions] == sorted(expected, key=lambda p: p.published)
    assert len(mentions) == 3
    assert {m.title for m in mentions} == {site.topics[list(site.topics)[0]]}
    assert {m.thread_id for m in mentions} == {list(site.topics)[0]}
    assert [m.kind for m in mentions] == ["post", "reply", "reply"]  # the topic's opener first
    edited = [m for m in mentions if m.metadata.get("edited")]
    assert len(edited) == 1 and edited[0].edited_at
    assert [r.url.removeprefix(BASE) for r in requests] == [site.changed[1]]
    assert requests[0].cb_kwargs == {"thread": "x"}

    mentions, requests = _split(spider.parse_topic(_page(name, site.changed[1]), thread="x"))
    assert [_as_post(m, base).url for m in mentions] == [p.url for p in site.posts[-2:]]
    assert requests == []  # the last page: nothing further (Invision's next link is inactive)
    assert {m.kind for m in mentions} == {"reply"}
    assert _stats(spider) == {"pages/posts_expected": 2, "posts/parsed": 5,
                              "strategy/selectors": 2}
    assert spider.seen_threads["x"] == ["4", "a", "b"]  # read whole: not forgotten


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_a_broken_topic_page_is_skipped_and_counted(tmp_path, name):
    site = SITES[name]
    spider = _spider(tmp_path, name)
    list(spider.parse_board(_page(name, site.board_pages[1])))
    key = next(k for k in spider.seen_threads if k in site.broken)
    mentions, _ = _split(spider.parse_topic(_page(name, site.broken), thread=key))
    stats = _stats(spider)
    assert stats[f"skipped/{site.broken_reason}"] == 1
    if site.broken_reason == "bad_date":  # the post without a date is skipped, not the others
        assert len(mentions) == 1 and stats["posts/parsed"] == 1
    else:  # a page cut short is not used at all
        assert mentions == [] and "pages/posts_expected" not in stats
        assert b"</html>" not in _fixture_file(site.broken, "first", name).read_bytes()
    assert key not in spider.seen_threads  # looked at again on the next crawl


def test_windows_1251_declared_by_the_http_header_or_only_by_meta(tmp_path):
    vb = _page("vbulletin", "/forum/showthread.php?t=501")
    assert vb.headers["Content-Type"] == b"text/html; charset=windows-1251"
    assert b"charset" not in vb.body  # the page itself declares nothing
    assert vb.encoding == "cp1251"
    smf = _page("smf", "/index.php?topic=301.0")
    assert smf.headers["Content-Type"] == b"text/html"
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">' \
        in smf.body
    assert smf.encoding == "cp1251"
    for name, response in (("vbulletin", vb), ("smf", smf)):
        mentions, _ = _split(_spider(tmp_path, name).parse_topic(response))
        assert mentions[0].text == SITES[name].posts[-5].text


def test_encoding_option_overrides_a_wrong_declaration(tmp_path):
    target = "/forum/showthread.php?t=501"
    wrong = {"Content-Type": "text/html; charset=utf-8"}
    text = SITES["vbulletin"].posts[-5].text
    mentions, _ = _split(_spider(tmp_path, "vbulletin").parse_topic(
        _page("vbulletin", target, headers=wrong)))
    assert mentions[0].text != text  # mojibake
    spider = _spider(tmp_path, "vbulletin", options={"encoding": "windows-1251"})
    mentions, _ = _split(spider.parse_topic(_page("vbulletin", target, headers=wrong)))
    assert mentions[0].text == text
    with pytest.raises(ValueError, match="unknown encoding"):
        _ = _spider(tmp_path, "vbulletin", options={"encoding": "klingon-8"}).forced_encoding


def test_dates_shown_as_today_and_yesterday_count_from_the_servers_clock(tmp_path):
    target = "/forum/showthread.php?t=501"
    page = _fixture_file(target, "first", "vbulletin").read_bytes()
    page = page.replace("05.11.2026,&nbsp;<span class=\"time\">12:10".encode("cp1251"),
                        "Вчера,&nbsp;<span class=\"time\">23:40".encode("cp1251"))
    page = page.replace("05.11.2026,&nbsp;<span class=\"time\">12:45".encode("cp1251"),
                        "Сегодня,&nbsp;<span class=\"time\">00:20".encode("cp1251"))
    # Served at 21:30 UTC on 24 November: already the 25th in Moscow.
    served = {"Date": "Tue, 24 Nov 2026 21:30:00 GMT"}
    response = _page("vbulletin", target, body=page, headers=served)
    mentions, _ = _split(_spider(tmp_path, "vbulletin").parse_topic(response))
    assert [m.published_at for m in mentions[:2]] == [
        "2026-11-24T20:40:00+00:00", "2026-11-24T21:20:00+00:00"]


def test_a_datetime_attribute_wins_over_the_text_shown(tmp_path):
    target = "/threads/volna-5g-evening-speed.101/"
    page = _fixture_file(target, "first", "xenforo").read_text(encoding="utf-8")
    assert page.count(">Nov 2, 2026</time>") == 4  # three posts and one edit notice
    page = page.replace(">Nov 2, 2026</time>", ">Yesterday at 7:40 PM</time>")
    spider = _spider(tmp_path, "xenforo")
    mentions, _ = _split(spider.parse_topic(_page("xenforo", target, body=page.encode())))
    assert mentions[0].published_at == "2026-11-02T17:40:00+00:00"
    # Without the machine-readable attributes the visible text is read, in the forum's zone.
    machine = 'datetime="2026-11-02T19:40:00+0200" data-time="1793641200"'
    assert page.count(machine) == 1
    page = page.replace(machine, "")
    served = {"Date": "Tue, 03 Nov 2026 10:00:00 GMT"}
    mentions, _ = _split(_spider(tmp_path, "xenforo").parse_topic(
        _page("xenforo", target, body=page.encode(), headers=served)))
    assert mentions[0].published_at == "2026-11-02T17:40:00+00:00"


def test_posts_and_topics_outside_the_since_window_are_left_out(tmp_path):
    site = SITES["phpbb"]
    spider = _spider(tmp_path, "phpbb", since_days=1)
    _, requests = _split(spider.parse_board(_page("phpbb", site.board_pages[0])))
    assert requests == []
    mentions, _ = _split(spider.parse_topic(_page("phpbb", site.changed[0])))
    assert mentions == []
    assert _stats(spider) == {"threads/too_old": 2, "boards/stopped_unchanged": 1,
                              "pages/posts_expected": 1, "posts/parsed": 3, "posts/too_old": 3,
                              "strategy/board_selectors": 1, "strategy/selectors": 1}


def test_a_topic_page_without_posts_is_counted_for_the_layout_check(tmp_path):
    target = "/threads/volna-5g-evening-speed.101/"
    page = _fixture_file(target, "first", "xenforo").read_bytes()
    for marker, hidden in ((b"message--post", b"message--comment"), (b'id="js-post-', b'id="x'),
                           (b'data-content="post-', b'data-content="x'), (b'id="post-', b'id="x')):
        page = page.replace(marker, hidden)  # no post block left, by selectors or by structure
    spider = _spider(tmp_path, "xenforo")
    spider.seen_threads["101"] = ["4", "x", "y"]
    mentions, requests = _split(spider.parse_topic(_page("xenforo", target, body=page),
                                                   thread="101"))
    assert mentions == []
    assert _stats(spider) == {"pages/posts_expected": 1, "strategy/selectors": 1}
    assert "101" not in spider.seen_threads


@pytest.mark.parametrize("closed_later", [True, False])
def test_an_unterminated_comment_opener_in_a_post_hides_no_other_post(tmp_path, closed_later):
    target = "/forum/viewtopic.php?t=712"
    page = _fixture_file(target, "odd", "phpbb").read_bytes()
    assert page.count(b"<!--") == 2  # the post's stray opener, the template's own comment
    if not closed_later:  # nothing closes the stray opener before the page ends
        page = page.replace(b"<!-- end of posts -->", b"")
    spider = _spider(tmp_path, "phpbb")
    mentions, _ = _split(spider.parse_topic(_page("phpbb", target, "odd", body=page),
                                            thread="712"))
    assert [(m.url.removeprefix(BASE), m.author_handle, m.text) for m in mentions] == [
        ("/forum/viewtopic.php?p=7120#p7120", "anna",
         "Написала в подпись <!-- чтобы скрыть баннер, а теперь пропал весь текст после "
         "него. Volna, почините редактор!"),
        ("/forum/viewtopic.php?p=7121#p7121", "petro",
         "Комментарии в подписи не работают, пишите в поддержку Volna."),
        ("/forum/viewtopic.php?p=7122#p7122", "olga",
         "У меня то же самое, поддержка ответила за час."),
    ]
    assert _stats(spider)["posts/parsed"] == 3


def test_crawl_of_odd_posts_skips_and_counts_the_empty_ones(fixture_server, tmp_path):
    """A stray ``<!--`` in one post hides nothing; posts of only ``&nbsp;``, zero-width
    characters, ``<br>`` or a blank Hangul filler are skipped and counted, not stored."""
    server = fixture_server(FIXTURES / "phpbb" / "odd")
    base = server.base_url
    sources = write_sources(tmp_path / "sources.yaml", {
        "id": "odd", "kind": "forum", "url": f"{base}/forum/", "since_days": 36500,
        "options": {"engine": "phpbb", "boards": ["viewforum.php?f=9"]}})
    db_path = tmp_path / "odd.db"
    result = run_crawl(sources, db_path, jobs=False)
    assert result.returncode == 0, result.stderr
    assert "odd: 4 new, 0 edited, 0 unchanged, 4 skipped" in result.stdout
    with store.open_db(db_path) as db:
        (run,) = store.last_runs(db)
        stored = dict(db.execute("SELECT url, text FROM mentions").fetchall())
    assert run["stats"]["otklik/skipped/empty"] == 4
    assert "otklik/dropped/empty" not in run["stats"]
    assert {url.removeprefix(f"{base}/forum/") for url in stored} == {
        "viewtopic.php?p=7120#p7120", "viewtopic.php?p=7121#p7121",
        "viewtopic.php?p=7122#p7122", "viewtopic.php?p=7130#p7130"}
    assert stored[f"{base}/forum/viewtopic.php?p=7120#p7120"].startswith(
        "Написала в подпись <!-- чтобы скрыть баннер")


def test_http_errors_are_skipped_and_the_topic_looked_at_again(tmp_path):
    spider = _spider(tmp_path, "phpbb")
    spider.seen_threads["701"] = ["4", "x", "y"]
    url = f"{BASE}/forum/viewtopic.php?t=701"
    request = Request(url, cb_kwargs={"thread": "701"})
    response = HtmlResponse(url, status=500, body=b"", request=request)
    failure = Failure(HttpError(response))
    failure.request = request
    spider.topic_failed(failure)
    assert _stats(spider) == {"skipped/http_error": 1}
    assert "701" not in spider.seen_threads


# ---------------------------------------------------------------------------------------------
# End to end: real crawls of all five fixture forums (one `otklik crawl` per round)

def _rows(db, bases: dict) -> dict:
    rows = {}
    for source, base in bases.items():
        found = {}
        for row in db.execute(
                """SELECT m.url, a.handle, a.profile_url, m.published_at, m.text, m.quotes,
                          m.metadata, m.title, m.thread_id, m.version, m.edited_at
                   FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
                   WHERE m.source_id = ?""", [source]):
            url, handle, profile, published, text, quotes, metadata, *rest, edited_at = row
            post = Post(url.removeprefix(base), handle,
                        profile.removeprefix(base) if profile else None, published, text,
                        tuple((q["author"], q["text"]) for q in json.loads(quotes)),
                        json.loads(metadata).get("edited"), edited_at)
            found[post.url] = (post, *rest)
        rows[source] = found
    return rows


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Three crawls of the five forums: the first, an identical one, and one over the later
    layer. Returns what each round printed, stored and fetched."""
    tmp = tmp_path_factory.mktemp("forums")
    servers = {name: start_fixture_server(FIXTURES / name / "first") for name in SITES}
    try:
        bases = {name: server.base_url for name, server in servers.items()}
        sources = write_sources(tmp / "sources.yaml",
                                *(_source(name, bases[name]) for name in SITES))
        db_path = tmp / "forums.db"
        rounds = {}
        for round_name in ("first", "again", "later"):
            for name, server in servers.items():
                if round_name == "later":
                    server.layers = [FIXTURES / name / "later", FIXTURES / name / "first"]
                server.hits.clear()
            result = run_crawl(sources, db_path, jobs=False)
            assert result.returncode == 0, result.stderr
            with store.open_db(db_path) as db:
                runs = {run["source"]: run for run in store.last_runs(db)}
                rows = _rows(db, bases)
            hits = {name: {target: count for target, count in server.hits.items()
                           if target != "/robots.txt"} for name, server in servers.items()}
            rounds[round_name] = {"stdout": result.stdout, "runs": runs, "rows": rows,
                                  "hits": hits}
        yield rounds
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_crawl_stores_every_post_with_authors_dates_and_quotes(crawls, name):
    site = SITES[name]
    first = crawls["first"]
    rows = first["rows"][name]
    assert {url: row[0] for url, row in rows.items()} == {p.url: p for p in site.posts}
    assert {(row[2], row[1]) for row in rows.values()} == {
        (thread, title) for thread, title in site.topics.items()
        if any(row[2] == thread for row in rows.values())}
    assert {row[3] for row in rows.values()} == {1}
    run = first["runs"][name]
    assert run["status"] == "finished" and run["flags"] == []
    skipped = {k: v for k, v in run["stats"].items() if k.startswith("otklik/skipped/")}
    assert skipped == {f"otklik/skipped/{site.broken_reason}": 1}
    assert (f"{name}: {len(site.posts)} new, 0 edited, 0 unchanged, 1 skipped, "
            f"finished: finished") in first["stdout"]
    assert first["hits"][name] == dict.fromkeys(
        [*site.board_pages, *site.changed, *site.unchanged, site.broken], 1)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_recrawl_of_an_unchanged_forum_fetches_only_the_first_board_page(crawls, name):
    again = crawls["again"]
    assert f"{name}: 0 new, 0 edited, 0 unchanged, 0 skipped" in again["stdout"]
    assert again["hits"][name] == {SITES[name].board_pages[0]: 1}
    assert again["rows"][name].keys() == crawls["first"]["rows"][name].keys()
    assert again["runs"][name]["stats"]["otklik/threads/unchanged"] == 2


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_later_crawl_fetches_only_the_changed_topic_and_stores_the_reply_and_the_edit(
        crawls, name):
    site = SITES[name]
    later = crawls["later"]
    stats = later["runs"][name]["stats"]
    assert stats["otklik/stored/inserted"] == 1 and stats["otklik/stored/updated"] == 1
    # The board's pages, the changed topic (all of its pages, so the edit on its first page
    # is seen) and the broken topic, which is looked at again; never the unchanged topics.
    assert later["hits"][name] == dict.fromkeys(
        [*site.board_pages, *site.changed, site.broken], 1)
    rows = later["rows"][name]
    assert len(rows) == len(site.posts) + 1
    new, *_, version = rows[site.new_later.url]
    assert (new, version) == (site.new_later, 1)
    edited, *_, version = rows[site.edited_later.url]
    assert (edited, version) == (site.edited_later, 2)
    changed = (site.new_later.url, site.edited_later.url)
    assert {url: row for url, row in rows.items() if url not in changed} == {
        url: row for url, row in crawls["first"]["rows"][name].items() if url not in changed}
