"""Campaigns over HTTP: create (rows inline, or a selection over the BSS), add rows, start, pause,
resume, cancel, and the numbers: rows, sent, created, failed, and requests by status."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import Field

from actors.models import Id, Model
from routing.campaigns import ROWS, CampaignCreate, Row

from .auth import CampaignRunner
from .routes import PROBLEMS, Runtime

async def _operator(who: CampaignRunner) -> None:
    """Campaigns are an operator's (or an admin's)."""


router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"], dependencies=[Depends(_operator)])
CampaignId = Annotated[Id, Path(description="The campaign id.")]


class CampaignRead(Model):
    id: str
    name: str
    template: dict[str, Any]
    ratePerSecond: float | None
    status: str = Field(description="ready, running, paused, completed or cancelled.")
    rows: int = Field(description="Rows known (uploaded, or selected from the BSS).")
    cursor: int = Field(description="Rows sent and answered so far.")
    created: int = Field(description="Rows whose request was created by this campaign.")
    existing: int = Field(description="Rows whose request existed already (a relaunch).")
    failed: int = Field(description="Rows refused (each with its error in `errors`).")
    createdAt: float
    startedAt: float | None
    finishedAt: float | None
    awaitingRows: bool = Field(False, description="The launcher said more rows follow (`more=true` on its last "
                               "upload): once every row so far is sent, the campaign waits for them, `running`, "
                               "instead of completing.")
    requestsByStatus: dict[str, int] = Field(default_factory=dict, description="The campaign's requests by their "
                                             "current status, from the journal.")
    errors: list[dict[str, str]] = Field(default_factory=list, description="The first refused rows.")
    added: int | None = None


async def _read(rt: Runtime, c: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for part in await asyncio.to_thread(lambda: [r.count_by_status(c["id"]) for r in rt.readers]):
        for status, n in part.items():
            counts[status] = counts.get(status, 0) + n
    return {**c, "requestsByStatus": counts}


@router.post("", status_code=201, response_model=CampaignRead, responses=PROBLEMS, summary="Create a campaign")
async def create_campaign(body: CampaignCreate, rt: Runtime) -> dict[str, Any]:
    """A template, and rows inline (up to 1,000; more with `POST /campaigns/{id}/rows`) or a
    `selection` over the BSS. With the `id` of an existing campaign and the same template, answers
    that campaign (a relaunch). `start: true` starts it at once."""
    return await _read(rt, await rt.campaigns.create.remote(body.model_dump_json()))


@router.get("", response_model=list[CampaignRead], summary="List campaigns")
async def list_campaigns(rt: Runtime) -> list[dict[str, Any]]:
    return [await _read(rt, c) for c in await rt.campaigns.list.remote()]


@router.get("/{campaign_id}", response_model=CampaignRead, responses=PROBLEMS, summary="A campaign and its numbers")
async def get_campaign(campaign_id: CampaignId, rt: Runtime) -> dict[str, Any]:
    return await _read(rt, await rt.campaigns.get.remote(campaign_id))


@router.post("/{campaign_id}/rows", response_model=CampaignRead, responses=PROBLEMS, summary="Add rows")
async def add_rows(campaign_id: CampaignId, rows: Annotated[list[Row], Body(max_length=5000)],
                   rt: Runtime, more: Annotated[bool, Query(description="More uploads follow: a running campaign "
                                                            "that has sent every row waits for them instead of "
                                                            "completing. The last upload leaves it out.")] = False,
                   ) -> dict[str, Any]:
    """Rows already known (by key) are ignored, so a launcher may send its whole file again. A
    launcher uploading in chunks says `more=true` on all but the last, so that the campaign can
    start sending from the first chunk and still complete only after the last row."""
    body = ROWS.dump_json(rows).decode()
    return await _read(rt, await rt.campaigns.add_rows.remote(campaign_id, body, more))


def _control(action: str, summary: str, doc: str):
    async def handler(campaign_id: CampaignId, rt: Runtime) -> dict[str, Any]:
        return await _read(rt, await getattr(rt.campaigns, action).remote(campaign_id))
    handler.__doc__ = doc
    handler.__name__ = f"{action}_campaign"
    router.post(f"/{{campaign_id}}/{action}", response_model=CampaignRead, responses=PROBLEMS,
                summary=summary)(handler)


_control("start", "Start a campaign", "Sends its rows to the request hosts in batches, at most `ratePerSecond`.")
_control("pause", "Pause a running campaign", "It stops after the batch in flight.")
_control("resume", "Resume a paused campaign", "It goes on from the first row not sent.")
_control("cancel", "Cancel a campaign", "Rows not sent yet never will be; requests created stay.")
