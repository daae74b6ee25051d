from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tropa.routes.planner import RISK_PROBABILITY

RISK_CHOICES = [(level, level) for level in RISK_PROBABILITY]
DOCUMENT_CHOICES = [
    ("internal_passport", pgettext_lazy("document", "internal passport")),
    ("foreign_passport", pgettext_lazy("document", "foreign passport")),
    ("visa", pgettext_lazy("document", "visa")),
]
AVERSION_CHOICES = [
    ("cautious", _("cautious: avoid risk even if it takes days longer")),
    ("balanced", _("balanced")),
    ("fast", _("fast: accept more risk to save time")),
]
MAX_UPLOAD = 2 * 1024 * 1024  # the knowledge parser refuses more anyway


class KnowledgeForm(forms.Form):
    text = forms.CharField(
        label=_("Route knowledge (YAML)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
    )
    upload = forms.FileField(label=_("or import a YAML file"), required=False)

    def source(self) -> str:
        upload = self.cleaned_data.get("upload")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(_("The file is larger than 2 MB."))
            raw = upload.read(MAX_UPLOAD + 1)
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise forms.ValidationError(_("The file is not UTF-8 text.")) from error
        return str(self.cleaned_data.get("text") or "")


class ReassessForm(forms.Form):
    risk = forms.ChoiceField(label=_("Risk"), choices=RISK_CHOICES)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class PlanForm(forms.Form):
    start = forms.ChoiceField(label=_("Where the person is now"), choices=[])
    documents = forms.MultipleChoiceField(
        label=_("Documents the person holds"),
        choices=DOCUMENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    risk_aversion = forms.ChoiceField(
        label=_("Trade-off"), choices=AVERSION_CHOICES, initial="balanced"
    )

    def __init__(self, *args: object, places: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start"].choices = places


class JourneyStartForm(forms.Form):
    route = forms.IntegerField(min_value=0, max_value=2, widget=forms.HiddenInput)
    departed_at = forms.DateTimeField(
        label=_("Departure"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    grace_minutes = forms.IntegerField(
        label=_("Alarm after a missed check-in (minutes)"),
        min_value=5,
        max_value=24 * 60,
        initial=60,
    )
