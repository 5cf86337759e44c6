"""TMF630 query conventions for the TMF683 list: attribute filters as SQL over the journal's
``requests`` table, so ``X-Total-Count`` counts exactly what matches and a page is cut in SQL.

Every top-level attribute of the PartyInteraction (``actors.party_interaction``) has an SQL
expression computing it from the row: an indexed column where there is one (``id``, ``status``,
``direction``, ``channel``, ``requestType``...), else from the journaled state (``json_extract``),
following the same rule as the mapping (the verbatim TMF683 attribute when the request came through
TMF683, else what follows from the request). A dotted path goes into an object (``interactionDate.
startDateTime``) or into the elements of an array (``channel.id``, ``relatedParty.id``: any element
matches). ``attr.gt``/``.gte``/``.lt``/``.lte`` compare (text order, right for the journal's
fixed-width UTC dates); a repeated parameter is any of its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors import party_interaction as pi
from actors.errors import Invalid

# Columns are named with their table: inside json_each() subqueries a bare ``id`` would be json_each's.
R = "requests"
K = f"json_extract({R}.state, '$.interaction')"  # null for a request created natively


def _kept(name: str) -> str:
    return f"json_extract({R}.state, '$.interaction.\"{name}\"')"


def _state(path: str) -> str:
    return f"json_extract({R}.state, '$.{path}')"


CHANNELS = (f"json_array(json_object('id', {R}.channel, 'href', '{pi.channel_href('')}' || {R}.channel, "
            f"'name', {R}.channel, '@referredType', 'Channel'))")
PARTIES = ("(SELECT json_group_array(json_object('id', json_extract(p.value, '$.id'), 'href', "
           f"'{pi.party_href('')}' || json_extract(p.value, '$.id'), 'name', json_extract(p.value, '$.name'), "
           "'role', json_extract(p.value, '$.role'), '@referredType', 'Party')) "
           f"FROM json_each({R}.state, '$.relatedParty') p)")
ITEMS = (f"json_array(json_object('id', '1', 'item', json_object('id', {R}.id, 'href', {_state('href')}, "
         f"'role', '{pi.REQUEST_ROLE}', '@referredType', {R}.request_type)))")


def _either(name: str, native: str) -> str:
    return f"CASE WHEN {K} IS NULL THEN {native} ELSE {_kept(name)} END"


# attribute -> (SQL giving its value, is it an array of objects)
SCALARS: dict[str, str] = {
    "id": "id",
    "href": f"'{pi.RESOURCE}/' || {R}.id",
    "creationDate": _state("creationDate"),
    "direction": "direction",
    "reason": f"coalesce({_state('description')}, {R}.request_type)",
    "status": "status",
    "statusChangeDate": (f"coalesce((SELECT json_extract(t.value, '$.at') FROM json_each({R}.state, '$.timeline') t "
                         "WHERE json_extract(t.value, '$.toStatus') IS NOT NULL ORDER BY t.key DESC LIMIT 1), "
                         f"{_state('creationDate')})"),
    "description": _kept("description"),
    "@type": f"coalesce({_kept('@type')}, '{pi.TYPE}')",
    "@baseType": f"coalesce({_kept('@baseType')}, '{pi.BASE_TYPE}')",
    "@schemaLocation": _kept("@schemaLocation"),
    # extension attributes
    "requestType": "request_type",
    "priority": "priority",
    "queue": "queue",
    "assignee": "assignee",
    "statusReason": _state("statusReason"),
    "resolution": _state("resolution"),
    "externalId": _state("externalId"),
    "campaignId": "campaign_id",
    "closedAt": _state("closedAt"),
    "lastUpdate": _state("lastUpdate"),
    "claimExpiresAt": _state("claimExpiresAt"),
}
ARRAYS: dict[str, str] = {
    "channel": _either("channel", CHANNELS),
    "relatedParty": _either("relatedParty", PARTIES),
    "interactionItem": _either("interactionItem", ITEMS),
    "interactionRelationship": _kept("interactionRelationship"),
    "note": _kept("note"),
    "attachment": _kept("attachment"),
    "activities": _state("activities"),
    "timeline": _state("timeline"),
    "references": _state("references"),
}
OBJECTS: dict[str, str] = {
    "interactionDate": _either("interactionDate", f"json_object('startDateTime', {_state('creationDate')})"),
    "sla": _state("sla"),
    "result": _state("result"),
}
OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
RESERVED = frozenset({"fields", "offset", "limit"})
COLUMNS = frozenset({"id", "direction", "status", "requestType", "priority", "queue", "assignee", "campaignId"})
FILTERABLE = sorted({*SCALARS, *ARRAYS, *OBJECTS})


def _json_path(parts: list[str]) -> str:
    for p in parts:
        if not p or "'" in p or '"' in p:
            raise Invalid(f"malformed attribute path {'.'.join(parts)!r}", "query")
    return "$." + ".".join(f'"{p}"' for p in parts)


def _compare(expr: str, op: str, values: list[str], column: bool = False) -> tuple[str, tuple[Any, ...]]:
    text = expr if column else f"CAST({expr} AS TEXT)"  # a column keeps its index and its affinity
    if op == "=":
        return f"{text} IN ({', '.join('?' for _ in values)})", tuple(values)
    return " OR ".join(f"{text} {op} ?" for _ in values), tuple(values)


@dataclass(frozen=True)
class Filter:
    sql: str
    args: tuple[Any, ...]


def condition(name: str, values: list[str]) -> Filter:
    """One query parameter (``status``, ``channel.id``, ``creationDate.gt``...) as an SQL condition."""
    parts = name.split(".")
    op = "="
    if len(parts) > 1 and parts[-1] in OPERATORS:
        op = OPERATORS[parts.pop()]
    top, rest = parts[0], parts[1:]
    if top in SCALARS and not rest:
        sql, args = _compare(SCALARS[top], op, values, top in COLUMNS)
    elif top in ARRAYS and rest:
        inner, args = _compare(f"json_extract(j.value, '{_json_path(rest)}')", op, values)
        sql = f"EXISTS (SELECT 1 FROM json_each({ARRAYS[top]}) j WHERE {inner})"
    elif top in OBJECTS and rest:
        sql, args = _compare(f"json_extract({OBJECTS[top]}, '{_json_path(rest)}')", op, values)
    elif top in ARRAYS or top in OBJECTS:
        raise Invalid(f"{top} is a structure: filter on one of its attributes, e.g. {top}.id", name)
    else:
        raise Invalid(f"cannot filter on {name!r}; filterable attributes: {', '.join(FILTERABLE)}", name)
    return Filter(sql, args)


def conditions(params: list[tuple[str, str]]) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """The filters of a query string (``fields``, ``offset``, ``limit`` left out), repeated names
    grouped (any of their values)."""
    grouped: dict[str, list[str]] = {}
    for name, value in params:
        if name not in RESERVED:
            grouped.setdefault(name, []).append(value)
    return tuple((f.sql, f.args) for f in (condition(n, v) for n, v in grouped.items()))
