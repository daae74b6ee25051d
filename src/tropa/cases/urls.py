from django.urls import path

from tropa.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("<int:case_id>/", views.case_detail_view, name="detail"),
    path("<int:case_id>/reply/", views.case_reply_view, name="reply"),
    path("<int:case_id>/note/", views.case_note_view, name="note"),
    path("<int:case_id>/status/", views.case_status_view, name="status"),
    path("<int:case_id>/verification/", views.case_verification_view, name="verification"),
    path("<int:case_id>/decision/", views.case_decision_view, name="decision"),
    path("<int:case_id>/flag/", views.case_flag_view, name="flag"),
    path("<int:case_id>/services/", views.case_service_add_view, name="service_add"),
    path("<int:case_id>/services/update/", views.case_service_update_view, name="service_update"),
    path("<int:case_id>/services/session/", views.case_session_view, name="session"),
    path("quick-replies/", views.quick_replies_view, name="quick_replies"),
]
