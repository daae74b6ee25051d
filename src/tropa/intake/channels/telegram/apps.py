from django.apps import AppConfig


class TelegramConfig(AppConfig):
    name = "tropa.intake.channels.telegram"
    label = "telegram"

    def ready(self) -> None:
        from tropa.intake.channels.telegram.services import chat_wipe
        from tropa.intake.signals import register_wipe_handler

        register_wipe_handler("telegram", chat_wipe)
