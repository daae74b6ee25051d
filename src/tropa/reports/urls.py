from django.urls import path

from tropa.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("public/", views.public_view, name="public"),
]
