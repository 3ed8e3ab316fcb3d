"""Admin for the runtime config: the keys with their current values, an edit form that asks why,
each key's history with a diff between any two versions, and revert."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from chatplatform.runtime_config import errors, selectors, services
from chatplatform.runtime_config.keys import key_get, keys_all
from chatplatform.runtime_config.models import ConfigValue

MONOSPACE = "font-family: monospace; width: 60em"


class ConfigEditForm(forms.Form):
    value = forms.JSONField(widget=forms.Textarea(attrs={"rows": 18, "style": MONOSPACE}))
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "style": MONOSPACE}),
        help_text="Why the value changes; kept with the version.",
    )


class ConfigRevertForm(forms.Form):
    reason = forms.CharField(max_length=500)


def _error_lines(fields: Any, prefix: str = "") -> list[str]:
    """`{"gpt-4o": {"input_per_million": ["..."]}}` as `gpt-4o.input_per_million: ...` lines."""
    if isinstance(fields, dict):
        lines = []
        for name, value in fields.items():
            # A bare field's errors come under "value": they need no path.
            where = f"{prefix}.{name}" if prefix else ("" if name == "value" else name)
            lines += _error_lines(value, where)
        return lines
    if isinstance(fields, list):
        return [line for item in fields for line in _error_lines(item, prefix)]
    return [f"{prefix}: {fields}" if prefix else str(fields)]


@admin.register(ConfigValue)
class ConfigValueAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path("", view(self.keys_view), name="{}_{}_changelist".format(*info)),
            path("<str:key>/edit/", view(self.edit_view), name="{}_{}_edit".format(*info)),
            path("<str:key>/history/", view(self.versions_view), name="{}_{}_versions".format(*info)),
            path(
                "<str:key>/revert/<int:version>/", view(self.revert_view), name="{}_{}_revert".format(*info)
            ),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "can_change": self.has_change_permission(request),
            **extra,
        }

    def _key_or_404(self, key: str):
        try:
            return key_get(key)
        except errors.ConfigError as exc:
            raise Http404(exc.message) from exc

    def keys_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        stored = {row.key: row for row in ConfigValue.objects.select_related("updated_by")}
        rows = [
            {
                "key": key,
                "stored": stored.get(key.name),
                "value": selectors.pretty_json(stored[key.name].value if key.name in stored else key.default),
            }
            for key in keys_all()
        ]
        return render(
            request, "admin/runtime_config/keys.html", self._context(request, "Runtime config", rows=rows)
        )

    def edit_view(self, request: HttpRequest, key: str) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        config_key = self._key_or_404(key)
        stored = selectors.config_stored(key)
        current = stored.value if stored else config_key.default
        if request.method == "POST":
            form = ConfigEditForm(request.POST)
            if form.is_valid():
                try:
                    version = services.config_set(
                        key,
                        form.cleaned_data["value"],
                        author=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except errors.ConfigError as exc:
                    form.add_error("reason" if exc.code == errors.REASON_REQUIRED else "value", exc.message)
                    for line in _error_lines(exc.fields):
                        form.add_error("value", line)
                else:
                    messages.success(request, f"{key} is now version {version.number}.")
                    return HttpResponseRedirect(
                        reverse("admin:runtime_config_configvalue_versions", args=[key])
                    )
        else:
            form = ConfigEditForm(initial={"value": current})
        return render(
            request,
            "admin/runtime_config/edit.html",
            self._context(request, f"Change {key}", key=config_key, form=form, stored=stored),
        )

    def versions_view(self, request: HttpRequest, key: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        config_key = self._key_or_404(key)
        versions = selectors.config_versions(key)
        numbers = {version.number for version in versions}
        diff, old, new = [], None, None
        if versions:
            new = _int_or_none(request.GET.get("new"))
            new = new if new in numbers else versions[0].number
            old = _int_or_none(request.GET.get("old"))
            if old not in numbers:
                old = new - 1 if new - 1 in numbers else None
            diff = selectors.config_diff(key, old, new)
        return render(
            request,
            "admin/runtime_config/versions.html",
            self._context(
                request,
                f"History of {key}",
                key=config_key,
                versions=versions,
                diff=diff,
                old=old,
                new=new,
                revert_form=ConfigRevertForm(),
            ),
        )

    def revert_view(self, request: HttpRequest, key: str, version: int) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        self._key_or_404(key)
        back = HttpResponseRedirect(reverse("admin:runtime_config_configvalue_versions", args=[key]))
        if request.method != "POST":
            return back
        try:
            created = services.config_revert(
                key, version, author=request.user, reason=request.POST.get("reason", "")
            )
        except errors.ConfigError as exc:
            messages.error(request, " ".join([exc.message, *_error_lines(exc.fields)]))
        else:
            messages.success(
                request, f"{key} is back to version {version}'s value, as version {created.number}."
            )
        return back


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
