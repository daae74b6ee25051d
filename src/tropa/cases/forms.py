from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tropa.cases.models import Outcome, QuickReply, ServiceStatus, Status


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply to the applicant"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    quick = forms.ModelChoiceField(
        label=_("or a saved answer"), queryset=QuickReply.objects.all(), required=False
    )
    sensitive = forms.BooleanField(
        label=_("Contains a route, a contact or a plan (only for verified cases)"),
        required=False,
    )

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("text") or "").strip() and data.get("quick") is None:
            raise forms.ValidationError(_("Write a reply or choose a saved answer."))
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note (never sent)"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusForm(forms.Form):
    target = forms.ChoiceField(label=_("Move to"), choices=Status.choices)
    outcome = forms.ChoiceField(
        label=_("Outcome (required to close)"),
        choices=[("", "—"), *Outcome.choices],
        required=False,
    )


class VerificationForm(forms.Form):
    documents_checked = forms.BooleanField(
        label=_("Document photos received and checked"), required=False
    )
    call_at = forms.DateTimeField(
        label=_("Video call (date and time, UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    call_link = forms.CharField(label=_("Video call link"), max_length=500, required=False)
    call_done = forms.BooleanField(label=_("Video call done"), required=False)


class DecisionForm(forms.Form):
    verified = forms.TypedChoiceField(
        label=_("Decision"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("Verified")), ("no", _("Not verified"))],
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class ServiceAddForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Service"),
        choices=[
            ("legal", _("legal")),
            ("psychological", _("psychological")),
            ("evacuation", _("evacuation")),
            ("documents", _("documents")),
            ("visa", _("visa")),
        ],
    )


class ServiceUpdateForm(forms.Form):
    service = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("Status"), choices=ServiceStatus.choices)
    assignee = forms.IntegerField(label=_("Assignee"), required=False)


class SessionForm(forms.Form):
    service = forms.IntegerField(widget=forms.HiddenInput)
    held_at = forms.DateTimeField(
        label=_("When (UTC)"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=600)
    note = forms.CharField(
        label=_("Note"), max_length=8000, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ["title", "text_ru", "text_en"]


class FlagForm(forms.Form):
    confirm = forms.BooleanField(label=_("I think this person may not be who he says"))
