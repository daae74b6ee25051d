from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "tropa.journeys"
    label = "journeys"

    def ready(self) -> None:
        from tropa.cases.notify import register_applicant_action
        from tropa.journeys import tasks  # noqa: F401  (registers the Huey tasks)
        from tropa.journeys.services import CHECK_IN_PREFIX, check_in_from_chat

        register_applicant_action(CHECK_IN_PREFIX, check_in_from_chat)
