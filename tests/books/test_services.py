from decimal import Decimal

import pytest

from books.errors import ApplicationError, Conflict
from books.models import ContactType, QuoteConversion, Transaction, TransactionKind, TransactionStatus
from books.selectors import contact_financials, contact_list
from books.services.contacts import contact_create
from books.services.custom_fields import custom_field_create
from books.services.transactions import (
    LineInput,
    TransactionInput,
    quote_convert_to_invoice,
    transaction_create,
    transaction_set_status,
)
from tests.factories import CustomerFactory, ItemFactory, VendorFactory

pytestmark = pytest.mark.django_db


def _invoice(org, customer, *lines, kind=TransactionKind.INVOICE):
    return transaction_create(
        organization=org, actor=None, kind=kind, data=TransactionInput(contact_id=customer.pk, lines=list(lines))
    )


def test_invoice_totals_are_decimal_and_rounded_once(org):
    customer = CustomerFactory(organization=org)
    invoice = _invoice(
        org,
        customer,
        LineInput(name="Widget", quantity=Decimal("3"), rate="19.995", tax_percentage="7.5"),
        LineInput(name="Service", quantity="1.5", rate="10"),
    )
    assert invoice.number == "INV-00001"
    # 3 x 20.00 (rate rounded) = 60.00; 1.5 x 10 = 15.00; tax 7.5% of 60 = 4.50
    assert invoice.sub_total == Decimal("75.00")
    assert invoice.tax_total == Decimal("4.50")
    assert invoice.total == Decimal("79.50")
    assert invoice.status == TransactionStatus.DRAFT
    assert _invoice(org, customer, LineInput(name="x", rate="1")).number == "INV-00002"


def test_numbering_is_per_organization(org, other_org):
    a = _invoice(org, CustomerFactory(organization=org), LineInput(name="x", rate="1"))
    b = _invoice(other_org, CustomerFactory(organization=other_org), LineInput(name="x", rate="1"))
    assert a.number == b.number == "INV-00001"


def test_customer_of_another_org_is_refused(org, other_org):
    foreign = CustomerFactory(organization=other_org)
    with pytest.raises(ApplicationError) as exc:
        _invoice(org, foreign, LineInput(name="x", rate="1"))
    assert exc.value.field == "customer_id"
    assert exc.value.status == 404


def test_vendor_is_not_a_customer(org):
    vendor = VendorFactory(organization=org)
    with pytest.raises(ApplicationError, match="customer_id"):
        _invoice(org, vendor, LineInput(name="x", rate="1"))


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (LineInput(name="x", rate="abc"), "line_items[0].rate"),
        (LineInput(name="x", rate="1", quantity="0"), "line_items[0].quantity"),
        (LineInput(name="", rate="1"), "line_items[0].name"),
        (LineInput(name="x", rate="-1"), "line_items[0].rate"),
        (LineInput(name="x", rate="1", tax_percentage="101"), "line_items[0].tax_percentage"),
        (LineInput(item_id=999999, rate="1"), "line_items[0].item_id"),
    ],
)
def test_bad_lines_name_the_field(org, line, field):
    with pytest.raises(ApplicationError) as exc:
        _invoice(org, CustomerFactory(organization=org), line)
    assert exc.value.field == field
    assert field in exc.value.message


def test_status_transitions(org):
    invoice = _invoice(org, CustomerFactory(organization=org), LineInput(name="x", rate="10"))
    with pytest.raises(Conflict, match="draft invoice cannot be marked paid"):
        transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.PAID)
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.SENT)
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.SENT)  # idempotent
    with pytest.raises(ApplicationError, match="'accepted' is not a status of an invoice"):
        transaction_set_status(txn=invoice, actor=None, status="accepted")
    transaction_set_status(txn=invoice, actor=None, status=TransactionStatus.VOID)
    invoice.refresh_from_db()
    assert invoice.status == TransactionStatus.VOID


def test_accepting_a_quote_converts_it_per_preference(org):
    org.quote_conversion = QuoteConversion.SENT
    org.save()
    customer = CustomerFactory(organization=org)
    quote = _invoice(org, customer, LineInput(name="Deal", rate="500"), kind=TransactionKind.QUOTE)
    transaction_set_status(txn=quote, actor=None, status=TransactionStatus.ACCEPTED)
    quote.refresh_from_db()
    assert quote.status == TransactionStatus.INVOICED
    invoice = Transaction.objects.get(converted_from=quote)
    assert invoice.status == TransactionStatus.SENT
    assert invoice.total == Decimal("500.00")
    # converting again returns the same invoice, never a second one
    assert quote_convert_to_invoice(quote=quote, actor=None) == invoice
    assert Transaction.objects.filter(kind=TransactionKind.INVOICE).count() == 1


def test_receivables_and_sales_selector(org):
    customer = CustomerFactory(organization=org)
    item = ItemFactory(organization=org, rate=Decimal("40"))
    a = _invoice(org, customer, LineInput(item_id=item.pk, quantity="2"))
    b = _invoice(org, customer, LineInput(name="x", rate="20"))
    _invoice(org, customer, LineInput(name="draft", rate="1000"))
    transaction_set_status(txn=a, actor=None, status=TransactionStatus.SENT)
    transaction_set_status(txn=b, actor=None, status=TransactionStatus.SENT)
    transaction_set_status(txn=b, actor=None, status=TransactionStatus.PAID)
    financials = contact_financials(contact=customer)
    assert financials.outstanding_receivables == Decimal("80.00")
    assert financials.total_sales == Decimal("100.00")


def test_contact_custom_fields_are_typed(org):
    custom_field_create(organization=org, actor=None, entity="customer", label="Credit Limit", data_type="decimal")
    custom_field_create(
        organization=org, actor=None, entity="customer", label="Tier", data_type="picklist", options=["Gold", "Silver"]
    )
    contact = contact_create(
        organization=org,
        actor=None,
        contact_type=ContactType.CUSTOMER,
        data={"contact_name": "Zylker"},
        custom_fields={"cf_credit_limit": "1500.50", "Tier": "gold"},
    )
    assert contact.custom_fields == {"cf_credit_limit": "1500.50", "cf_tier": "Gold"}
    with pytest.raises(ApplicationError, match=r"cf_tier \(Tier\): 'Bronze' is not one of the options"):
        contact_create(
            organization=org,
            actor=None,
            contact_type=ContactType.CUSTOMER,
            data={"contact_name": "Other"},
            custom_fields={"cf_tier": "Bronze"},
        )


def test_crm_filter_uses_linked_ids(org):
    CustomerFactory(organization=org, contact_name="Plain")
    CustomerFactory(organization=org, contact_name="Linked", zcrm_account_id="4150868000000225013")
    names = [c.contact_name for c in contact_list(organization=org, contact_type=ContactType.CUSTOMER, filter_by="crm")]
    assert names == ["Linked"]
