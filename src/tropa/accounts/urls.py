from django.urls import path

from tropa.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/code/", views.otp_verify_view, name="otp_verify"),
    path("login/enrol/", views.otp_enrol_view, name="otp_enrol"),
    path("logout/", views.logout_view, name="logout"),
    path("home/", views.home_view, name="home"),
    path("staff/", views.staff_list_view, name="staff_list"),
    path("staff/<int:staff_id>/revoke/", views.staff_revoke_view, name="staff_revoke"),
]
