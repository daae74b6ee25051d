from django.urls import include, path
from django.views.generic import RedirectView
from django.views.i18n import set_language

from tropa.documents.views import chat_upload_view

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="accounts:home")),
    path("accounts/", include("tropa.accounts.urls")),
    path("cases/", include("tropa.cases.urls")),
    path("volunteers/", include("tropa.volunteers.urls")),
    path("matching/", include("tropa.matching.urls")),
    path("routes/", include("tropa.routes.urls")),
    path("journeys/", include("tropa.journeys.urls")),
    path("applications/", include("tropa.applications.urls")),
    path("documents/", include("tropa.documents.urls")),
    path("reports/", include("tropa.reports.urls")),
    path("chat/upload/", chat_upload_view, name="chat_upload"),
    path("chat/", include("tropa.intake.channels.web.urls")),
    path("telegram/", include("tropa.intake.channels.telegram.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
]

handler404 = "tropa.core.views.not_found"
handler500 = "tropa.core.views.server_error"
