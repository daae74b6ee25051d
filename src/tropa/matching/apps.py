from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "tropa.matching"
    label = "matching"
