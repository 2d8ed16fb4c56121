"""The accountant's pages (function-based: form → service → TemplateResponse), one module per area."""

from books.views.account import LoginView, dashboard, logout_view, organization_switch

__all__ = ["LoginView", "dashboard", "logout_view", "organization_switch"]
