from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tropa.cases.models import Status


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply to the applicant"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Internal note (never sent)"),
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusForm(forms.Form):
    target = forms.ChoiceField(label=_("Move to"), choices=Status.choices)


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
