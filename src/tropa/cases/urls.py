from django.urls import path

from tropa.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("<int:case_id>/", views.case_detail_view, name="detail"),
]
