from django.urls import path

from tropa.applications import views

app_name = "applications"

urlpatterns = [
    path("case/<int:case_id>/", views.case_applications_view, name="case"),
    path("case/<int:case_id>/add/", views.application_add_view, name="add"),
    path(
        "case/<int:case_id>/<int:application_id>/",
        views.application_update_view,
        name="update",
    ),
]
