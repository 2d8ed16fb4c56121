"""The CRM notification receiver (webhook), trigger preferences, and the deal-stage rules that create, approve,
decline and void quotes and invoices."""
