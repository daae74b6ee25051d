from django.urls import path

from tropa.journeys import views

app_name = "journeys"

urlpatterns = [
    path("case/<int:case_id>/", views.case_route_view, name="case"),
    path("case/<int:case_id>/plan/<int:plan_id>/", views.plan_view, name="plan"),
    path("case/<int:case_id>/plan/<int:plan_id>/start/", views.journey_start_view, name="start"),
    path(
        "case/<int:case_id>/journey/<int:journey_id>/switch/",
        views.journey_switch_view,
        name="switch",
    ),
    path("case/<int:case_id>/journey/<int:journey_id>/end/", views.journey_end_view, name="end"),
    path(
        "case/<int:case_id>/check-in/<int:check_in_id>/handled/",
        views.alarm_ack_view,
        name="acknowledge",
    ),
]
