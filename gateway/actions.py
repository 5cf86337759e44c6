"""What CSRs and customers do to a request: one endpoint per action, each with its own body.

Every action is handled by the request's own actor (found from the id, no router hop), recorded in
the timeline with who did it (``csr:<id>`` or ``party:<id>``), and refused with 409 when the
request's status or the lifecycle does not allow it. CSR actions other than ``claim`` need the
CSR's live claim on the request.

Who may act is stated by each route's principal (``gateway/auth.py``): a CSR key acts as its own
CSR (``csrId`` in the body may be left out), a customer key as its own party (``partyId`` may be
left out); a channel key acts on behalf of the party it names in ``partyId``, which must be a
related party of the request (404 otherwise, as for an unknown id).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from actors.errors import Invalid, NotFound
from actors.journal import ts
from actors.models import Id

from .auth import CsrActor, CustomerActor, Principal, QueueReader, acting_csr, acting_party
from .routes import JSON, PROBLEMS, Runtime
from .schemas import (
    Answer,
    Approve,
    BuildQuote,
    Contest,
    Csr,
    CsrAction,
    Confirm,
    CsrId,
    Decline,
    Information,
    PartyAction,
    Promise,
    Reject,
    Reopen,
    RequestInformation,
    RequestRead,
)

router = APIRouter(prefix="/api/v1")
RequestId = Annotated[Id, Path(description="The request id.")]
CSR_TAG, CUSTOMER_TAG = "CSR work queue", "customer actions"


def csr(rt: Runtime, csr_id: str) -> dict[str, Any]:
    found = rt.csrs().get(csr_id)
    if found is None:
        raise Invalid(f"no CSR with id {csr_id}", "csrId")
    return found


async def _act(rt: Runtime, rid: str, action: str, actor: str, data: dict[str, Any]) -> Response:
    return Response(await rt.act(rid, action, actor, data), media_type=JSON)


async def csr_act(rt: Runtime, rid: str, action: str, body: CsrAction, p: Principal) -> Response:
    csr_id = acting_csr(p, body.csrId)
    who = csr(rt, csr_id)
    data = body.model_dump(mode="json", exclude={"csrId"})
    if action == "claim":
        data["skills"] = who["skills"]
    return await _act(rt, rid, action, f"csr:{csr_id}", data)


async def party_act(rt: Runtime, rid: str, action: str, body: PartyAction, p: Principal) -> Response:
    party = acting_party(p, body.partyId)  # the request actor answers 404 unless it is a related party
    return await _act(rt, rid, action, f"party:{party}", body.model_dump(mode="json", exclude={"partyId"}))


def post(path: str, summary: str, tag: str):
    return router.post(f"/requests/{{request_id}}/{path}", response_model=RequestRead, responses=PROBLEMS,
                       summary=summary, tags=[tag])


# -- CSR ------------------------------------------------------------------------------------
@post("claim", "Claim a held request (CSR)", CSR_TAG)
async def claim(request_id: RequestId, body: CsrAction, rt: Runtime, who: CsrActor) -> Response:
    """The CSR takes the request; 409 when another CSR's claim is live or the CSR lacks the queue's
    skill. A claim expires after the type's `claimMinutes` if not worked."""
    return await csr_act(rt, request_id, "claim", body, who)


@post("release", "Release a claim (CSR)", CSR_TAG)
async def release(request_id: RequestId, body: CsrAction, rt: Runtime, who: CsrActor) -> Response:
    return await csr_act(rt, request_id, "release", body, who)


@post("answer", "Answer the customer and resolve (CSR)", CSR_TAG)
async def answer(request_id: RequestId, body: Answer, rt: Runtime, who: CsrActor) -> Response:
    return await csr_act(rt, request_id, "answer", body, who)


@post("approve", "Approve a disputed credit (CSR)", CSR_TAG)
async def approve(request_id: RequestId, body: Approve, rt: Runtime, who: CsrActor) -> Response:
    return await csr_act(rt, request_id, "approve", body, who)


@post("reject", "Refuse a dispute (CSR)", CSR_TAG)
async def reject(request_id: RequestId, body: Reject, rt: Runtime, who: CsrActor) -> Response:
    return await csr_act(rt, request_id, "reject", body, who)


@post("build-quote", "Build a custom quote (CSR)", CSR_TAG)
async def build_quote(request_id: RequestId, body: BuildQuote, rt: Runtime, who: CsrActor) -> Response:
    return await csr_act(rt, request_id, "buildQuote", body, who)


@post("request-information", "Ask the customer for information (CSR)", CSR_TAG)
async def request_information(request_id: RequestId, body: RequestInformation, rt: Runtime,
                              who: CsrActor) -> Response:
    """The request goes `pending` (its SLA clock stops) and emits `informationRequired`; the
    customer's `information` brings it back to the CSR queue."""
    return await csr_act(rt, request_id, "requestInformation", body, who)


@post("retry", "Retry a failed order (CSR)", CSR_TAG)
async def retry(request_id: RequestId, body: CsrAction, rt: Runtime, who: CsrActor) -> Response:
    return await csr_act(rt, request_id, "retry", body, who)


# -- customer -------------------------------------------------------------------------------
@post("accept", "Accept a quote (customer)", CUSTOMER_TAG)
async def accept(request_id: RequestId, body: PartyAction, rt: Runtime, who: CustomerActor) -> Response:
    """Creates the SalesQuoteAgreement; the request resolves `accepted`."""
    return await party_act(rt, request_id, "accept", body, who)


@post("decline", "Decline a quote (customer)", CUSTOMER_TAG)
async def decline(request_id: RequestId, body: Decline, rt: Runtime, who: CustomerActor) -> Response:
    return await party_act(rt, request_id, "decline", body, who)


@post("information", "Add information to a pending request (customer)", CUSTOMER_TAG)
async def information(request_id: RequestId, body: Information, rt: Runtime, who: CustomerActor) -> Response:
    """The request goes back to `inProgress` and on to a CSR, who reads the information."""
    return await party_act(rt, request_id, "information", body, who)


@post("promise", "Promise to pay a dunning notice (customer)", CUSTOMER_TAG)
async def promise(request_id: RequestId, body: Promise, rt: Runtime, who: CustomerActor) -> Response:
    return await party_act(rt, request_id, "promise", body, who)


@post("contest", "Dispute a dunning notice (customer)", CUSTOMER_TAG)
async def contest(request_id: RequestId, body: Contest, rt: Runtime, who: CustomerActor) -> Response:
    """The notice goes to the collections queue for a CSR."""
    return await party_act(rt, request_id, "dispute", body, who)


@post("confirm", "Confirm the resolution: the request closes (customer)", CUSTOMER_TAG)
async def confirm(request_id: RequestId, body: Confirm, rt: Runtime, who: CustomerActor) -> Response:
    """A resolved request closes at once (`closed`, with `closedAt`); without an answer it closes
    by itself when the type's `confirmationMinutes` have passed. 409 when it is not resolved."""
    return await party_act(rt, request_id, "confirm", body, who)


@post("reopen", "Reopen a resolved request (customer)", CUSTOMER_TAG)
async def reopen(request_id: RequestId, body: Reopen, rt: Runtime, who: CustomerActor) -> Response:
    """Inside the confirmation window only: the request goes back to `inProgress` and to a CSR, and
    its SLA resolution clock runs again. 409 once closed."""
    return await party_act(rt, request_id, "reopen", body, who)


# -- the work queue ---------------------------------------------------------------------------
@router.get("/csrs", response_model=list[Csr], tags=[CSR_TAG], summary="CSRs, their skills and load")
async def list_csrs(rt: Runtime, who: QueueReader) -> list[Csr]:
    claimed, _ = await _assignments(rt)
    return [Csr(id=c["id"], name=c["name"], skills=c["skills"], load=len(claimed.get(c["id"], [])))
            for c in rt.csrs().values()]


@router.get("/csrs/{csr_id}/queue", response_model=list[RequestRead], tags=[CSR_TAG], summary="A CSR's work queue",
            responses={404: PROBLEMS[404]})
async def csr_queue(csr_id: Annotated[CsrId, Path()], rt: Runtime, who: QueueReader) -> Response:
    """Held requests for this CSR, highest priority and oldest first: those the CSR has claimed, then
    unclaimed ones assigned to this CSR by least load. Each unclaimed request of a queue goes, in
    order, to the CSR with that skill who holds the fewest live claims plus assignments so far."""
    if csr_id not in rt.csrs():
        raise NotFound(f"no CSR with id {csr_id}", "csr_id")
    claimed, offered = await _assignments(rt)
    return Response(f"[{','.join(claimed.get(csr_id, []) + offered.get(csr_id, []))}]", media_type=JSON)


async def _assignments(rt: Runtime) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """``(claimed, offered)``: per CSR, the held requests it has a live claim on, and the unclaimed ones
    assigned to it by least load, highest priority and oldest first."""
    csrs = rt.csrs().values()
    rows = await rt.held(sorted({s for c in csrs for s in c["skills"]}))
    now = _now()
    claimed: dict[str, list[str]] = {}
    unclaimed = []
    for _, _, _, queue, assignee, expires, state in rows:
        if assignee is not None and expires is not None and expires > now:
            claimed.setdefault(assignee.removeprefix("csr:"), []).append(state)
        else:
            unclaimed.append((queue, state))
    load = {c["id"]: len(claimed.get(c["id"], [])) for c in csrs}
    offered: dict[str, list[str]] = {}
    for queue, state in unclaimed:
        able = [c["id"] for c in csrs if queue in c["skills"]]
        if able:
            chosen = min(able, key=lambda cid: (load[cid], cid))
            load[chosen] += 1
            offered.setdefault(chosen, []).append(state)
    return claimed, offered


def _now() -> str:
    return ts(datetime.now(timezone.utc))  # the journal's timestamp format, so claims compare as text
