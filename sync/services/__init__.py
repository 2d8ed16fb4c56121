"""Writes of the sync engine (STYLE.md rule 3).

What other apps call:
- runs.sync_start(connection=, actor=, trigger=, modules=) → SyncRun: Instant Sync, Save and Sync (also registered
  with crm_integration.hooks as the sync starter).
- records.contact_fetch_from_crm(contact=, actor=) → Contact: "Fetch this contact from Zoho CRM".
- records.customer_import_from_crm(organization=, actor=, crm_module=, crm_id=) → Contact, and
  records.vendor_import_from_crm / records.item_import_from_crm: import one CRM record now (creating or linking).
- runs.run_execute(run=) and runs.connections_claim_due(): what the Celery tasks and `crm_sync` run.

The pipeline of a module lives in lanes.py (what is synced), pull.py (pull → map → match → apply), push.py,
deletions.py; context.py, cursors.py, locks.py, idfield.py and hashing.py are their plumbing.
"""
