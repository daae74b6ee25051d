from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tropa.reports"
    label = "reports"
