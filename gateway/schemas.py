"""Response and action schemas of the native API (requests come in as routing.models.RequestCreate)."""

from __future__ import annotations

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from actors.models import LongText, Model, RequestState


class RequestRead(RequestState):
    """A request as the API shows it: state, activities with their states, and the timeline."""

    bodyHash: SkipJsonSchema[str | None] = Field(None, exclude=True)


class CancelBody(Model):
    reason: LongText | None = Field(None, description="Why the request is cancelled; kept in the timeline.")
