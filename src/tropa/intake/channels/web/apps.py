from django.apps import AppConfig


class WebChatConfig(AppConfig):
    name = "tropa.intake.channels.web"
    label = "webchat"

    def ready(self) -> None:
        from tropa.intake.signals import register_wipe_handler

        # The page itself ends the session when it sees the wipe; nothing to delete remotely.
        register_wipe_handler("web", lambda conversation: None)
