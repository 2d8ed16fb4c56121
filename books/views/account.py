"""Sign in and out, the dashboard, and switching between one's organizations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from books.errors import NotFound
from books.middleware import SESSION_KEY
from books.models import ContactType, TransactionKind, TransactionStatus
from books.permissions import books_page
from books.selectors import contact_list, item_list, organization_get_for_user, transaction_list
from books.views.common import BooksRequest


class LoginView(auth_views.LoginView):
    template_name = "books/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


logout_view = LogoutView.as_view()


@books_page()
def dashboard(request: BooksRequest) -> HttpResponse:
    org = request.organization
    invoices = transaction_list(organization=org, kind=TransactionKind.INVOICE)
    context = {
        "customer_count": contact_list(organization=org, contact_type=ContactType.CUSTOMER).count(),
        "vendor_count": contact_list(organization=org, contact_type=ContactType.VENDOR).count(),
        "item_count": item_list(organization=org).count(),
        "open_invoices": invoices.filter(status__in=(TransactionStatus.SENT, TransactionStatus.OVERDUE)).count(),
        "recent_invoices": list(invoices[:8]),
    }
    return TemplateResponse(request, "books/dashboard.html", context)


@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("books:login")
    try:
        organization = organization_get_for_user(user=request.user, organization_id=request.POST.get("organization_id"))
    except NotFound:
        messages.error(request, "That organization is not one of yours.")
        return redirect("books:dashboard")
    request.session[SESSION_KEY] = organization.pk
    messages.success(request, f"Switched to {organization.name}.")
    return redirect("books:dashboard")
