from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tropa.documents.models import DocumentKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is it?"), choices=DocumentKind.choices)
    file = forms.FileField(label=_("Photo (JPEG or PNG)"))


class MrzForm(forms.Form):
    text = forms.CharField(
        label=_("The machine-readable lines (the rows of <<< at the bottom of the page)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "mono"}),
    )
