"""Contact in SQLite: customers, the knowledge base, CSRs and the outbox of sent messages."""

from __future__ import annotations

import json
from typing import Any

from .. import kb, shapes
from ..errors import InvalidForBss, NotFoundInBss
from .db import Db, dumps


class Contact(Db):
    def customer(self, customer_id: str) -> dict[str, Any] | None:
        """A customer or prospect: ``{id, name, kind (customer|prospect), segment, email, phone}``."""
        return self._one("SELECT * FROM customers WHERE id = ?", customer_id)

    def kb_search(self, text: str, limit: int = 3) -> list[dict[str, Any]]:
        return kb.search(text, self._all("SELECT * FROM kb_articles ORDER BY id"), limit)

    def kb_article(self, article_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM kb_articles WHERE id = ?", article_id)
        return None if row is None else {"id": row["id"], "title": row["title"], "answer": row["answer"]}

    def csrs(self) -> list[dict[str, Any]]:
        """CSRs as ``{id, name, skills, queues}``; skills among billing, sales, orders, collections, general."""
        return [{"id": r["id"], "name": r["name"], "skills": r["skills"].split(","), "queues": r["queues"].split(",")}
                for r in self._all("SELECT * FROM csrs ORDER BY id")]

    def outbox(self, party_id: str | None = None) -> list[dict[str, Any]]:
        """Messages sent, oldest first, all or to one party."""
        if party_id is None:
            rows = self.conn.execute("SELECT doc FROM messages ORDER BY seq")
        else:
            rows = self.conn.execute("SELECT doc FROM messages WHERE party_id = ? ORDER BY seq", (party_id,))
        return [json.loads(r[0]) for r in rows]

    def message(self, message_id: str) -> dict[str, Any] | None:
        return self._doc("messages", message_id)

    def send_message(self, message_id: str, party_id: str, channel: str, subject: str, body: str,
                     related_request_id: str | None = None) -> dict[str, Any]:
        """Send (store in the outbox) a TMF681 CommunicationMessage to a customer or prospect."""
        with self._tx() as c:
            if (message := self.message(message_id)) is not None:
                return message
            if not isinstance(channel, str) or not channel:
                raise InvalidForBss("channel must be a non-empty string such as email or sms")
            party = self.customer(party_id)
            if party is None:
                raise NotFoundInBss(f"party {party_id} not found")
            message = shapes.communication_message(message_id, party, channel, subject, body,
                                                   related_request_id, shapes.now())
            c.execute("INSERT INTO messages (id, party_id, doc) VALUES (?, ?, ?)", (message_id, party_id, dumps(message)))
            return message
