from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "readerstudy.studies"
    label = "studies"
    verbose_name = "Study design"

    def ready(self):
        from readerstudy.cases.access import register_case_access_policy

        from .access import AssignedReaderPolicy, PracticeReaderPolicy

        register_case_access_policy(AssignedReaderPolicy())
        register_case_access_policy(PracticeReaderPolicy())
        from readerstudy.core.navigation import register_link

        register_link("study-list", "Reader studies", lambda u: u.is_coordinator)
        # The readers' pages live in accounts, which sits beside core and cannot register.
        register_link("reader-list", "Readers", lambda u: u.is_coordinator)
