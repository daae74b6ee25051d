from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from tropa.accounts.models import TeamKind
from tropa.volunteers.services import SERVICE_TEAMS

TEAM_CHOICES = [(kind, label) for kind, label in TeamKind.choices if kind in SERVICE_TEAMS]
LANGUAGE_CHOICES = [
    ("ru", _("Russian")),
    ("en", _("English")),
    ("uk", _("Ukrainian")),
    ("be", _("Belarusian")),
    ("kk", _("Kazakh")),
    ("hy", _("Armenian")),
    ("ka", _("Georgian")),
    ("tr", _("Turkish")),
    ("de", _("German")),
]
# The intake flow's coarse regions, so volunteers and cases speak the same codes.
REGION_CHOICES = [
    ("central", _("Central")),
    ("northwest", _("North-West")),
    ("south", _("South")),
    ("volga", _("Volga")),
    ("urals", _("Urals")),
    ("siberia_far_east", _("Siberia and the Far East")),
    ("war_zone", _("War zone / occupied territories")),
    ("abroad", _("Abroad")),
]


class InviteForm(forms.Form):
    alias = forms.CharField(
        label=_("Alias (what applicants will see)"), max_length=64, min_length=2
    )
    teams = forms.MultipleChoiceField(
        label=_("Teams they are meant for"),
        choices=TEAM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class JoinForm(forms.Form):
    username = forms.RegexField(
        label=_("Username (to sign in; not shown to anyone)"),
        regex=r"^[A-Za-z0-9_.-]{3,64}$",
        error_messages={"invalid": _("Use 3 to 64 Latin letters, digits, dots, dashes.")},
    )
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, max_length=256)
    password_again = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput, max_length=256
    )

    def clean(self) -> dict:
        data = super().clean()
        password = data.get("password")
        if password and password != data.get("password_again"):
            raise forms.ValidationError(_("The two passwords differ."))
        if password:
            validate_password(password)
        return data


class ProfileForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    regions = forms.MultipleChoiceField(
        label=_("Regions you know"),
        choices=REGION_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    skills = forms.CharField(
        label=_("Skills (comma-separated, e.g. military law, trauma)"),
        max_length=300,
        required=False,
    )
    capacity = forms.IntegerField(
        label=_("Open cases you can hold at once"), min_value=0, max_value=50
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[])
    name = forms.CharField(label=_("Name (encrypted)"), max_length=120, required=False)
    contact = forms.CharField(
        label=_("Contact for the coordinators (encrypted)"), max_length=200, required=False
    )
    notes = forms.CharField(
        label=_("Notes (encrypted)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        import zoneinfo

        zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
        self.fields["time_zone"].choices = [(zone, zone) for zone in zones]

    def skill_list(self) -> list[str]:
        raw = self.cleaned_data.get("skills") or ""
        return [part.strip()[:40] for part in raw.split(",") if part.strip()][:20]


class AwayForm(forms.Form):
    starts_on = forms.DateField(
        label=_("Away from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            raise forms.ValidationError(_("The end is before the start."))
        return data


class VetForm(forms.Form):
    teams = forms.MultipleChoiceField(
        label=_("Teams"), choices=TEAM_CHOICES, widget=forms.CheckboxSelectMultiple
    )
