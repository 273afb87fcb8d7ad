from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "readerstudy.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from . import signals

        signals.connect()
        from readerstudy.core.navigation import register_link

        register_link("reader-list", "Readers", lambda u: u.is_coordinator)
