from django.urls import path

from tropa.intake.channels.web import views

app_name = "webchat"

urlpatterns = [
    path("", views.chat_view, name="chat"),
    path("return/", views.return_view, name="return"),
    path("leave/", views.leave_view, name="leave"),
]
