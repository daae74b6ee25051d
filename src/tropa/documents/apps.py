from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "tropa.documents"
    label = "documents"

    def ready(self) -> None:
        from tropa.cases.notify import register_applicant_file_handler
        from tropa.documents import tasks

        # Files sent in a chat are fetched, cleaned and stored by a job.
        register_applicant_file_handler(tasks.on_applicant_file)
