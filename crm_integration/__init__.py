"""The connection to a CRM org: credentials (encrypted at rest), org choice, prerequisite checks, module configs,
field maps, integration users and roles; the Settings › Zoho Apps pages. `crm_integration.zoho` is the Zoho CRM
v8 API client, the only code that speaks HTTP to a CRM."""
