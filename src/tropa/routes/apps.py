from django.apps import AppConfig


class RoutesConfig(AppConfig):
    name = "tropa.routes"
    label = "routes"

    def ready(self) -> None:
        from tropa.routes.services import book_keys_rewrap
        from tropa.vault import services as vault

        # The route book's key is wrapped for the coordinators' and the evacuation team's keys.
        vault.team_rewrapper_register(book_keys_rewrap)
