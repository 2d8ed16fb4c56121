"""The accountant's CRM actions on Books pages: the fragments sync adds to Books' pages (books.extensions), their
views (mounted at /crm/) and the Books API's CRM import endpoints."""
