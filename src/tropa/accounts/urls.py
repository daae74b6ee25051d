from django.urls import path
from django.views.generic import RedirectView

from tropa.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.otp_verify_view, name="otp_verify"),
    path("login/enrol/", views.otp_enrol_view, name="otp_enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("home/", views.home_view, name="home"),
    # The staff directory moved to the volunteers app (profiles, vetting, revocation).
    path("staff/", RedirectView.as_view(pattern_name="volunteers:directory"), name="staff_list"),
]
