"""Pure parts of the sandbox, without a server: criteria parsing, fault specs, api names, notify vocabulary."""

from __future__ import annotations

import pytest

from crm_sandbox.common import CrmApiError
from crm_sandbox.schema import notify_operations
from crm_sandbox.selectors import parse_search_criteria
from crm_sandbox.services.faults import FaultSpecError, parse_spec
from crm_sandbox.services.fields import api_name_from_label


def test_criteria_grammar() -> None:
    assert parse_search_criteria("(Account_Name:equals:Zylker)") == ("Account_Name", "equals", "Zylker")
    assert parse_search_criteria("((A:equals:x)and(B:starts_with:y))") == (
        "and",
        [("A", "equals", "x"), ("B", "starts_with", "y")],
    )
    nested = parse_search_criteria("((A:equals:x)or((B:equals:y)and(C:in:1,2)))")
    assert nested == ("or", [("A", "equals", "x"), ("and", [("B", "equals", "y"), ("C", "in", ["1", "2"])])])
    assert parse_search_criteria(r"(Name:equals:Smith\, Jones \(UK\))") == ("Name", "equals", "Smith, Jones (UK)")
    assert parse_search_criteria(r"(Name:in:a\,b,c)") == ("Name", "in", ["a,b", "c"])


@pytest.mark.parametrize(
    "text",
    [
        "Account_Name:equals:x",
        "(Account_Name:equals:x",
        "(Account_Name equals x)",
        "((A:equals:x)and(B:equals:y)or(C:equals:z))",
        "(A:like:x)",
    ],
)
def test_criteria_errors_are_invalid_query(text: str) -> None:
    with pytest.raises(CrmApiError) as caught:
        parse_search_criteria(text)
    assert (caught.value.code, caught.value.status) == ("INVALID_QUERY", 400)


def test_fault_spec() -> None:
    assert parse_spec("5xx=0.05, 429=0.1,slow=0.02,slow_ms=1500,after_write=0.5,seed=3") == {
        "rate_5xx": 0.05,
        "rate_429": 0.1,
        "rate_slow": 0.02,
        "slow_ms": 1500,
        "rate_after_write": 0.5,
        "seed": 3,
    }
    for bad, word in (
        ("5xx", "name=value"),
        ("5xx=2", "between 0 and 1"),
        ("boom=0.1", "unknown fault setting"),
        ("slow_ms=fast", "slow_ms"),
    ):
        with pytest.raises(FaultSpecError, match=word):
            parse_spec(bad)


def test_api_names_and_notify_vocabulary(monkeypatch: pytest.MonkeyPatch) -> None:
    assert api_name_from_label("Ledgerbridge ID") == "Ledgerbridge_ID"
    assert api_name_from_label("  Net 30 / days ") == "Net_30_days"
    assert api_name_from_label("2nd tier") == "Field_2nd_tier"
    assert notify_operations() == {"create": "insert", "edit": "update", "delete": "delete"}
    monkeypatch.setenv("CRM_SANDBOX_NOTIFY_OPERATIONS", "create=create,edit=edit")
    assert notify_operations() == {"create": "create", "edit": "edit", "delete": "delete"}
