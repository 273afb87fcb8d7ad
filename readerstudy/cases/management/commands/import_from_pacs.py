"""Search a PACS over DICOMweb and import studies (de-identified on the way in)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from readerstudy.cases.errors import ImportFailed
from readerstudy.cases.models import Collection
from readerstudy.cases.pacs import import_study_from_pacs, search_studies


class Command(BaseCommand):
    help = "Import studies from a DICOMweb PACS by StudyInstanceUID, or all CT studies found."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="DICOMweb root (default: READERSTUDY_PACS_URL)")
        parser.add_argument(
            "--study", action="append", default=[], help="StudyInstanceUID (repeatable)"
        )
        parser.add_argument("--all-ct", action="store_true", help="import every study with CT")
        parser.add_argument("--limit", type=int, default=100)
        parser.add_argument("--collection")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, url, study, all_ct, limit, collection, no_progress, **options):
        uids = list(study)
        if all_ct:
            try:
                hits = search_studies(url=url, filters={"ModalitiesInStudy": "CT"}, limit=limit)
            except ImportFailed as exc:
                raise CommandError(exc.message) from None
            except Exception as exc:
                raise CommandError(f"PACS search failed: {type(exc).__name__}: {exc}") from None
            uids += [h.study_uid for h in hits]
        if not uids:
            raise CommandError("name studies with --study UID, or use --all-ct")
        target = Collection.objects.get_or_create(name=collection)[0] if collection else None
        failed = 0
        for uid in tqdm(uids, desc="PACS import", unit="study", disable=no_progress):
            try:
                outcome = import_study_from_pacs(uid, url=url, collection=target)
            except ImportFailed as exc:
                failed += 1
                tqdm.write(
                    self.style.ERROR(f"study {len(uids) and uids.index(uid) + 1}: {exc.message}"),
                    file=self.stderr,
                )
                continue
            state = "imported" if outcome.created else "already present"
            tqdm.write(
                f"study {uids.index(uid) + 1}: {state} as {outcome.case.code}", file=self.stdout
            )
        if failed:
            raise CommandError(f"{failed} of {len(uids)} studies failed")
