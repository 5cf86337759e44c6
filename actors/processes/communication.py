"""communication: every message to a customer, recorded as a TMF681 CommunicationMessage (outbox)."""

from __future__ import annotations

from .base import Payload, Process, completed, derived_id, party

CHANNEL_MESSAGE_TYPE = {"email": "email", "web": "email", "mobile": "sms", "ivr": "sms", "chat": "email",
                        "retail": "email", "partner": "email", "campaign": "email", "csr": "email"}


class CommunicationProcess(Process):
    kind = "communication"

    def sendMessage(self, p: Payload):
        msg = self.bss.send_message(derived_id("MSG", p), party(p), CHANNEL_MESSAGE_TYPE.get(p["channel"], "email"),
                                    p["input"]["subject"], p["input"]["body"], p["requestId"])
        return completed({"id": msg["id"], "subject": msg["subject"], "messageType": msg.get("messageType")})
