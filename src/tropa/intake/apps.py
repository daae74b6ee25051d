from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "tropa.intake"
    label = "intake"

    def ready(self) -> None:
        from tropa.cases.notify import register_applicant_notifier
        from tropa.intake.services import applicant_notify

        register_applicant_notifier(applicant_notify)
