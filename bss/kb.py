"""Knowledge-base search: deterministic keyword scoring, no index, no randomness.

A phrase is cut into words (lower case, a light suffix strip: ``invoices`` -> ``invoice``,
``roaming`` -> ``roam``), stop words dropped. Each remaining word is worth 1.0 when it is one of the
article's keywords, 0.6 when it is in the title, 0.3 when it is in the answer, 0 otherwise; the
score is the mean over the phrase's words, so it lies in 0..1 (1: every word is a keyword).
Ties are broken by article id; articles scoring 0 are left out.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

STOP_WORDS = frozenset("""
a an and are as at be been but by can could do does did for from had has have how i i'm im in is it
its me my of on or our so that the their them then there these they this to too us was we were what
when where which who why will with would you your yours am not no yes please hi hello thanks get got
""".split())

KEYWORD, TITLE, ANSWER = 1.0, 0.6, 0.3


def stem(word: str) -> str:
    for suffix, keep in (("ing", 3), ("ed", 3), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS and len(w) > 1}


def score(query: set[str], article: dict[str, Any]) -> float:
    if not query:
        return 0.0
    keywords, title, answer = words(article["keywords"]), words(article["title"]), words(article["answer"])
    total = sum(KEYWORD if w in keywords else TITLE if w in title else ANSWER if w in answer else 0.0 for w in query)
    return round(total / len(query), 3)


def search(text: str, articles: Iterable[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """Best articles for ``text`` as ``{id, title, answer, score}``, best first."""
    query = words(text)
    hits = [(score(query, a), a) for a in articles]
    hits = sorted((h for h in hits if h[0] > 0), key=lambda h: (-h[0], h[1]["id"]))
    return [{"id": a["id"], "title": a["title"], "answer": a["answer"], "score": s} for s, a in hits[:limit]]
