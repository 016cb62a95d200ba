"""Community questions: who asked, whether and how fast another customer or the brand
answered, and which are still waiting."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database


@dataclass(frozen=True)
class ThreadPost:
    mention_id: str
    thread: str
    author: str | None
    published_at: str
    is_question: bool
    url: str
    text: str


@dataclass(frozen=True)
class Question:
    mention_id: str
    author: str | None
    asked_at: str
    url: str
    text: str
    answered_at: str | None
    answered_by: str | None
    by_brand: bool
    hours_to_answer: float | None


def thread_posts(db: Database) -> list[ThreadPost]:
    """Every mention with its thread and whether it asks a question, oldest first."""
    rows = db.execute(
        """SELECT m.id, m.source_id || ':' || coalesce(m.thread_id, m.id), a.handle,
                  m.published_at,
                  EXISTS (SELECT 1 FROM hits h WHERE h.mention_id = m.id AND h.kind = 'intent'
                          AND h.key = 'question'), m.url, m.text
           FROM mentions m LEFT JOIN authors a ON a.id = m.author_id
           WHERE m.published_at IS NOT NULL ORDER BY m.published_at, m.seq"""
    ).fetchall()
    return [ThreadPost(*row[:4], bool(row[4]), row[5], row[6]) for row in rows]


def community_questions(posts: list[ThreadPost], brand_names: list[str]) -> list[Question]:
    """Each question with its first answer by someone else; an answerer whose handle names
    a brand (e.g. "Volna_Support") counts as the brand answering."""
    by_thread: dict[str, list[ThreadPost]] = defaultdict(list)
    for post in posts:
        by_thread[post.thread].append(post)
    names = [name.casefold() for name in brand_names]
    questions = []
    for post in posts:
        if not post.is_question:
            continue
        answer = next((other for other in by_thread[post.thread]
                       if other.published_at > post.published_at and other.author
                       and other.author != post.author), None)
        hours = None
        if answer:
            delta = (datetime.fromisoformat(answer.published_at)
                     - datetime.fromisoformat(post.published_at))
            hours = round(delta.total_seconds() / 3600, 1)
        by_brand = bool(answer and any(n in answer.author.casefold() for n in names))
        questions.append(Question(post.mention_id, post.author, post.published_at, post.url,
                                  post.text[:280], answer.published_at if answer else None,
                                  answer.author if answer else None, by_brand, hours))
    return questions
