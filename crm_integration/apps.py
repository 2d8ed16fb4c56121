from django.apps import AppConfig


class CrmIntegrationConfig(AppConfig):
    name = "crm_integration"
