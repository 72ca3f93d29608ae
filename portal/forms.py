"""Portal forms: deploy a spec, filter lists, launch golden paths, approve gates, create API keys."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal import paramtext
from workflows.choices import ExecutionStatus, ResourceState
from workflows.engine.model import ParameterSpec


class DeployForm(forms.Form):
    """A Score spec pasted or uploaded, an optional comment, and the team when the user has several."""

    spec = forms.CharField(
        label="Score spec",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 18,
                "spellcheck": "false",
                "class": "code-input",
                "data-editor": "yaml",
                "wrap": "off",
            }
        ),
    )
    spec_file = forms.FileField(label="…or upload a file", required=False)
    comment = forms.CharField(label="Comment", required=False, max_length=500)
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args: Any, teams: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = teams or []
        team = cast(forms.ChoiceField, self.fields["team"])
        team.choices = [("", "Default (the application's team)")] + [(n, n) for n in names]
        if len(names) < 2:
            self.fields["team"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("spec_file")
        if upload is not None:
            if upload.size > settings.SCORE_MAX_BYTES:
                raise ValidationError(f"The file is larger than {settings.SCORE_MAX_BYTES} bytes.")
            try:
                cleaned["spec"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError("The file is not UTF-8 text.") from None
        text = str(cleaned.get("spec") or "").replace("\r\n", "\n")
        if not text.strip():
            raise ValidationError("Paste a Score spec or choose a file.")
        cleaned["spec"] = text
        return cleaned


TIME_RANGES = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


class ExecutionFilterForm(forms.Form):
    """Filters of the workflows list."""

    app = forms.CharField(label="Application", required=False, max_length=253)
    workflow = forms.CharField(label="Workflow", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *ExecutionStatus.choices]
    )
    range = forms.ChoiceField(
        label="Started",
        required=False,
        choices=[
            ("", "Any time"),
            ("1h", "Last hour"),
            ("24h", "Last 24 hours"),
            ("7d", "Last 7 days"),
            ("30d", "Last 30 days"),
        ],
    )

    def since(self) -> Any:
        """The earliest creation time the range allows, or None."""
        chosen = self.cleaned_data.get("range") or ""
        return timezone.now() - TIME_RANGES[chosen] if chosen in TIME_RANGES else None


class ResourceFilterForm(forms.Form):
    """Filters of the resources list."""

    app = forms.CharField(label="Application", required=False, max_length=253)
    type = forms.ChoiceField(label="Type", required=False)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *ResourceState.choices]
    )

    def __init__(self, *args: Any, types: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["type"])
        field.choices = [("", "Any type")] + [(t, t) for t in types or []]


class DecisionForm(forms.Form):
    """Approve or reject a waiting gate, with a comment."""

    step = forms.CharField(max_length=200)
    comment = forms.CharField(
        label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApiKeyForm(forms.Form):
    """A new API key: a name and how long it lives."""

    name = forms.CharField(label="Name", max_length=100)
    expiry_days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "365 days")],
        initial=90,
    )


def _field_for(spec: ParameterSpec) -> forms.Field:
    """A form field for one parameter; validation itself stays with the engine (validate_parameters)."""
    attrs: dict[str, Any] = {"aria-describedby": f"help-{spec.name}"}
    if spec.required and spec.default is None:
        attrs["required"] = True
    help_parts = [spec.description] if spec.description else []
    if spec.pattern:
        help_parts.append(f"Use {paramtext.pattern_words(spec.pattern)}")
    if spec.type in ("int", "number"):
        help_parts.append(paramtext.range_words(spec.minimum, spec.maximum))
    help_parts.append(paramtext.default_words(spec.default))
    help_parts = [part for part in help_parts if part]
    initial = spec.default
    field: forms.Field
    if spec.allowed_values is not None:
        choices = [(str(v), str(v)) for v in spec.allowed_values]
        if spec.default is None:
            choices.insert(0, ("", "—"))
        field = forms.ChoiceField(choices=choices, widget=forms.Select(attrs=attrs))
    elif spec.type == "bool":
        # A select, not a checkbox: an unchecked box sends nothing, which would mean "use the default".
        choices = [("true", "Yes"), ("false", "No")]
        if spec.default is None:
            choices.insert(0, ("", "—"))
        field = forms.ChoiceField(choices=choices, widget=forms.Select(attrs=attrs))
        initial = "" if spec.default is None else ("true" if spec.default else "false")
    elif spec.type in ("int", "number"):
        attrs["step"] = "1" if spec.type == "int" else "any"
        if spec.minimum is not None:
            attrs["min"] = f"{spec.minimum:g}"
        if spec.maximum is not None:
            attrs["max"] = f"{spec.maximum:g}"
        field = forms.CharField(widget=forms.NumberInput(attrs=attrs))
    elif spec.type in ("list", "map"):
        example = '["a", "b"] or a, b' if spec.type == "list" else '{"key": "value"}'
        help_parts.append(f"JSON, e.g. {example}")
        field = forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": 3}))
        if initial is not None:
            initial = json.dumps(initial)
    else:
        if spec.type == "duration":
            attrs["placeholder"] = "e.g. 30m, 2h"
            help_parts.append("A duration such as 30s, 5m or 1h30m")
        field = forms.CharField(widget=forms.TextInput(attrs=attrs))
    field.required = False
    field.label = paramtext.label(spec.name)
    field.initial = initial
    field.help_text = " · ".join(help_parts)
    return field


TEAM_FIELD = "team"
APPLICATION_PARAMETERS = ("app_name", "application")


class GoldenPathForm(forms.Form):
    """A form generated from a golden path's parameter specs, plus the owning team for users in several."""

    def __init__(
        self,
        *args: Any,
        parameters: tuple[ParameterSpec, ...] = (),
        teams: list[str] | None = None,
        applications: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.specs = {spec.name: spec for spec in parameters}
        for spec in parameters:
            self.fields[spec.name] = _field_for(spec)
            if spec.name in APPLICATION_PARAMETERS and spec.allowed_values is None:
                # A picker of the user's applications (a datalist: typing still works for long lists).
                self.fields[spec.name].widget.attrs.update(list="user-applications", autocomplete="off")
        self.applications = applications or []
        names = teams or []
        if len(names) > 1 and TEAM_FIELD not in self.specs:
            self.fields[TEAM_FIELD] = forms.ChoiceField(
                label="Team",
                required=False,
                choices=[("", "The application's team")] + [(n, n) for n in names],
                help_text="Owns the run when it names no existing application.",
            )

    def parameter_values(self) -> dict[str, Any]:
        """The values the user gave; blank fields are left out so the engine applies defaults."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.specs and value not in ("", None)
        }

    def team(self) -> str | None:
        """The team chosen in the form, if it offered one."""
        if TEAM_FIELD in self.specs:
            return None
        return str(self.cleaned_data.get(TEAM_FIELD) or "") or None
