"""Coordinator forms for reader accounts: the fields a study's reader table reports."""

from django import forms
from django.contrib.auth import password_validation

from .models import ReaderProfile, Specialty, User

MAX_YEARS = 70


class ReaderProfileFields(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    specialty = forms.ChoiceField(choices=Specialty.choices)
    years_experience = forms.IntegerField(
        min_value=0, max_value=MAX_YEARS, label="Years of experience"
    )
    institution = forms.CharField(
        max_length=ReaderProfile._meta.get_field("institution").max_length, required=False
    )


class ReaderCreateForm(ReaderProfileFields):
    username = forms.CharField(
        max_length=150,
        validators=[User.username_validator],
        help_text="letters, digits and @/./+/-/_ only; the reader signs in with it",
    )
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        label="Initial password",
        help_text="leave empty to generate a one-time password, shown once after saving",
    )
    field_order = ["username", "first_name", "last_name", "email", "password"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"the username {username!r} is taken")
        return username

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            probe = User(
                username=cleaned.get("username", ""),
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class ReaderEditForm(ReaderProfileFields):
    @classmethod
    def for_reader(cls, user: User, data=None) -> "ReaderEditForm":
        profile = getattr(user, "reader_profile", None)
        initial = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email}
        if profile is not None:
            initial |= {
                "specialty": profile.specialty,
                "years_experience": profile.years_experience,
                "institution": profile.institution,
            }
        return cls(data, initial=initial)
