from django.urls import path

from tropa.routes import views

app_name = "routes"

urlpatterns = [
    path("", views.knowledge_view, name="knowledge"),
    path("edit/", views.knowledge_edit_view, name="edit"),
    path("export.yaml", views.knowledge_export_view, name="export"),
    path("legs/<str:leg_id>/reassess/", views.leg_reassess_view, name="reassess"),
]
