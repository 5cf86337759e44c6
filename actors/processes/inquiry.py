"""inquiry: a general question answered from the knowledge base when an article matches well."""

from __future__ import annotations

from .base import Payload, Process, completed


class InquiryProcess(Process):
    kind = "inquiry"

    def kbAnswer(self, p: Payload):
        threshold = float(p["input"].get("threshold", 0.5))
        hits = self.bss.kb_search(p["input"].get("text") or "", limit=1)
        best = hits[0] if hits else None
        if best is None or best["score"] < threshold:
            return completed({"article": None, "bestScore": best["score"] if best else 0.0})
        return completed({"article": best})
