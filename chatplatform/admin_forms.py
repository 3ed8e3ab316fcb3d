"""Form pieces shared by admin pages that edit secrets and short lists."""

from django import forms

from chatplatform import crypto


class LinesField(forms.CharField):
    """A list of strings edited as one item per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class SecretReplaceField(forms.CharField):
    """A password input that is never filled in from the stored value."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Leave empty to keep the stored value.")
        kwargs["widget"] = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        super().__init__(strip=True, **kwargs)


class SecretFormMixin(forms.ModelForm):
    """Edits encrypted fields without ever sending them to the browser.

    For each name in `secret_fields` the form declares `new_<name>` (a SecretReplaceField that
    replaces the stored value when filled) and `clear_<name>` (a checkbox that removes it); the
    model field itself is excluded from the form, and the admin shows a masked hint instead.
    """

    secret_fields: tuple[str, ...] = ()

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            if cleaned.get(f"new_{name}") and cleaned.get(f"clear_{name}"):
                self.add_error(f"clear_{name}", "Either replace the value or remove it, not both.")
        return cleaned

    def save(self, commit=True):
        for name in self.secret_fields:
            if self.cleaned_data.get(f"clear_{name}"):
                setattr(self.instance, name, "")
            elif self.cleaned_data.get(f"new_{name}"):
                setattr(self.instance, name, self.cleaned_data[f"new_{name}"])
        return super().save(commit=commit)


def secret_hint(value: str) -> str:
    return crypto.mask(value) if value else "not set"
