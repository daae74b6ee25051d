from django.urls import path

from tropa.documents import views

app_name = "documents"

urlpatterns = [
    path("case/<int:case_id>/", views.case_documents_view, name="case"),
    path("case/<int:case_id>/upload/", views.upload_view, name="upload"),
    path("<int:document_id>/image.jpg", views.image_view, name="image"),
    path("<int:document_id>/mrz/", views.mrz_view, name="mrz"),
    path("<int:document_id>/kind/", views.kind_view, name="kind"),
]
