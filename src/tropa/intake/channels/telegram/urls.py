from django.urls import path

from tropa.intake.channels.telegram import views

app_name = "telegram"

urlpatterns = [path("webhook/", views.webhook_view, name="webhook")]
