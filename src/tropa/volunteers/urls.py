from django.urls import path

from tropa.volunteers import views

app_name = "volunteers"

urlpatterns = [
    path("", views.directory_view, name="directory"),
    path("invite/", views.invite_view, name="invite"),
    path("join/<str:token>/", views.join_view, name="join"),
    path("me/", views.my_profile_view, name="me"),
    path("workload/", views.workload_view, name="workload"),
    path("<int:staff_id>/", views.profile_view, name="profile"),
    path("<int:staff_id>/away/", views.away_add_view, name="away_add"),
    path("<int:staff_id>/away/<int:away_id>/remove/", views.away_remove_view, name="away_remove"),
    path("<int:staff_id>/vet/", views.vet_view, name="vet"),
    path("<int:staff_id>/status/", views.status_view, name="status"),
    path("<int:staff_id>/revoke/", views.revoke_view, name="revoke"),
]
