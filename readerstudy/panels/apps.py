from django.apps import AppConfig


class PanelsConfig(AppConfig):
    name = "readerstudy.panels"
    label = "panels"
    verbose_name = "Truth panels"

    def ready(self) -> None:
        from readerstudy.cases.access import register_case_access_policy
        from readerstudy.cases.case_sections import register_case_section
        from readerstudy.core.navigation import register_link

        from .access import PanelCaseAccess
        from .case_page import mask_provenance_section

        register_case_access_policy(PanelCaseAccess())
        register_case_section(mask_provenance_section)
        register_link("panel-list", "Truth panels", lambda u: u.is_coordinator)
        register_link("panel-worklist", "My panels", lambda u: u.is_annotator or u.is_adjudicator)
