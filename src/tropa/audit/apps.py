from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tropa.audit"
    label = "audit"
