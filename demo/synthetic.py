"""A generated phpBB forum of any size, for benchmarks and crawl tests.

Posts are stitched from short ru / uk / en customer phrases with a seeded generator, so a
run is repeatable; the demo's renderer and server serve it like the bundled sample.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from demo.phpbb import Forum, build_forum

PHRASES = {
    "ru": ["Волна опять списала деньги за роуминг", "третий день нет интернета дома",
           "поддержка обещала перезвонить и пропала", "приложение Моя Волна вылетает",
           "скорость упала вечером до 2 мбит", "в салоне быстро поменяли симку",
           "рекомендую Волну, всё стабильно", "перешёл на Теленову, пока доволен"],
    "uk": ["Волна знову зняла гроші за роумінг", "третій день немає інтернету вдома",
           "підтримка обіцяла передзвонити", "застосунок Моя Волна вилітає",
           "швидкість ввечері падає до 2 мбіт", "у салоні швидко замінили сімку",
           "раджу Волну, все стабільно", "перейшов на Теленову, поки задоволений"],
    "en": ["Volna charged me twice for roaming", "no internet at home for three days",
           "support promised a call back and vanished", "the My Volna app keeps crashing",
           "speed drops to 2 Mbps every evening", "the store swapped my SIM in minutes",
           "highly recommend Volna, rock solid", "switched to Telenova, happy so far"],
}


def synthetic_forum(boards: int = 2, topics_per_board: int = 50, posts_per_topic: int = 25,
                    users: int = 200, seed: int = 7) -> Forum:
    """A forum of ``boards × topics_per_board × posts_per_topic`` posts."""
    rng = random.Random(seed)
    start = datetime(2026, 8, 1, tzinfo=UTC)
    members = [{"id": 100 + i, "name": f"member_{i:04d}"} for i in range(users)]
    topic_id, board_rows = 100, []
    for board in range(1, boards + 1):
        topics = []
        for _ in range(topics_per_board):
            topic_id += 1
            language = rng.choice(list(PHRASES))
            posts = []
            moment = start + timedelta(hours=rng.randrange(24 * 60))
            for _ in range(posts_per_topic):
                moment += timedelta(minutes=rng.randrange(5, 600), seconds=rng.randrange(60))
                member = rng.choice(members)
                text = ". ".join(rng.sample(PHRASES[language], 3))
                posts.append({"author": member["name"], "user_id": member["id"],
                              "time": moment.isoformat(), "text": text})
            topics.append({"id": topic_id, "title": posts[0]["text"][:60],
                           "views": rng.randrange(50, 5000), "posts": posts})
        board_rows.append({"id": board, "title": f"Board {board}", "charset": "UTF-8",
                           "lang": "en", "topics": topics})
    every_post = [post for board in board_rows for topic in board["topics"]
                  for post in topic["posts"]]
    for number, post in enumerate(sorted(every_post, key=lambda p: p["time"]), start=1001):
        post["id"] = number  # phpBB numbers posts in the order they were written
        post["text"] += f" (#{number})"
    return build_forum({"forum": {"title": "Synthetic community", "description": "generated"},
                        "users": members, "boards": board_rows})
