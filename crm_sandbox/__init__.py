"""A local Zoho CRM v8-compatible server: its own process (`manage.py crm_sandbox serve`), its own SQLite
database, its own port. The CRM of the demo, of development and of the end-to-end tests; it can inject faults."""
