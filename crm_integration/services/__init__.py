"""Writes of crm_integration (STYLE.md rule 3): connections, module configs and field maps, the wizard's drafts,
the integration file. Pages, the crm_config command and other apps all go through these functions."""
