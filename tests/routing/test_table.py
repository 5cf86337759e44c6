import pytest
from pydantic import ValidationError

from routing.table import RoutingTable


def test_embedded_table_loads():
    table = RoutingTable.load()
    policy = table.policies()["billingInquiry"]
    assert policy.process == "billing" and policy.selfService
    assert table.policies()["billingDispute"].rules == {"autoCreditLimit": 50.0, "requiredStanding": "good"}
    assert set(table.requestTypes) == {"inquiry", "billingInquiry", "invoiceInquiry", "billingDispute", "quote",
                                       "cartCheckout", "dunningNotice"}  # DESIGN.md's table of request types


@pytest.mark.parametrize("mutate,field", [
    (lambda t: t["requestTypes"]["billingInquiry"].update(process="nope"), "requestTypes.billingInquiry.process"),
    (lambda t: t["requestTypes"]["billingInquiry"].update(slaPolicy="gold"), "requestTypes.billingInquiry.slaPolicy"),
    (lambda t: t["processes"].pop("communication"), "its flow needs the processes communication"),
    (lambda t: t["processes"].update(teleport={"replicas": 1}), "processes.teleport"),
    (lambda t: t["requestTypes"]["billingInquiry"].update(placement="everywhere"), "placement"),
    (lambda t: t["requestTypes"]["billingInquiry"].update(colour="red"), "colour"),
])
def test_bad_table_names_the_field(mutate, field):
    import tomllib

    from routing.table import DEFAULT_TABLE

    raw = tomllib.loads(DEFAULT_TABLE.read_text())
    mutate(raw)
    with pytest.raises(ValidationError) as err:
        RoutingTable.model_validate(raw)
    assert field in str(err.value)
