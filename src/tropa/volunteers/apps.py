from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "tropa.volunteers"
    label = "volunteers"

    def ready(self) -> None:
        from tropa.vault import services as vault
        from tropa.volunteers.services import profile_keys_rewrap

        # Profile keys are wrapped for the coordinators' team key too.
        vault.team_rewrapper_register(profile_keys_rewrap)
