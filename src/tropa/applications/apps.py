from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "tropa.applications"
    label = "applications"
