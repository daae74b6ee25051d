from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "tropa.vault"
    label = "vault"
