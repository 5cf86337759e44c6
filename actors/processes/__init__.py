"""Fulfilment processes: one class per process kind, one method per activity kind.

A method takes the activity's payload (the request's type, parties, characteristics and the
activity's ``input`` and ``activityId``) and returns an outcome: ``completed(result)``, or
``needs_person(reason)`` when a person must take over. Every write to the BSS carries an id derived
from the activity id, and the BSS refuses to apply the same id twice, so a repeated activity has
its effect exactly once, even after a process actor restarts. An exception is a technical failure
that the request actor retries.
"""

from __future__ import annotations

from .billing import BillingProcess
from .collections import CollectionsProcess
from .communication import CommunicationProcess
from .inquiry import InquiryProcess
from .ordering import OrderingProcess
from .selling import SellingProcess

PROCESSES: dict[str, type] = {
    cls.kind: cls
    for cls in (InquiryProcess, BillingProcess, SellingProcess, OrderingProcess, CollectionsProcess,
                CommunicationProcess)
}
