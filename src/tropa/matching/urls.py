from django.urls import path

from tropa.matching import views

app_name = "matching"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("<int:proposal_id>/", views.proposal_view, name="proposal"),
    path("<int:proposal_id>/accept/", views.accept_view, name="accept"),
]
