from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tropa.applications.models import DeadlineKind, Decision, Kind, Stage

DATE = forms.DateInput(attrs={"type": "date"})


class ApplicationAddForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    country = forms.RegexField(
        label=_("Country (two-letter code, e.g. DE)"),
        regex=r"^[A-Za-z]{2}$",
        error_messages={"invalid": _("Use the two-letter country code, e.g. DE or FR.")},
    )
    notes = forms.CharField(
        label=_("Notes (encrypted)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ApplicationUpdateForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("", "—"), *Decision.choices], required=False
    )
    submitted_on = forms.DateField(label=_("Submitted on"), required=False, widget=DATE)
    interview_on = forms.DateField(label=_("Interview on"), required=False, widget=DATE)
    decided_on = forms.DateField(label=_("Decided on"), required=False, widget=DATE)
    deadline = forms.DateField(label=_("Next deadline"), required=False, widget=DATE)
    deadline_kind = forms.ChoiceField(
        label=_("What is due"), choices=[("", "—"), *DeadlineKind.choices], required=False
    )
    notes = forms.CharField(
        label=_("Notes (encrypted)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    documents = forms.CharField(
        label=_("Supporting documents from the case (one per line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def document_list(self) -> list[str]:
        raw = self.cleaned_data.get("documents") or ""
        return [line.strip()[:200] for line in raw.splitlines() if line.strip()][:20]
