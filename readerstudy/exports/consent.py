"""The consent table of a study: one row per reader acceptance of a consent version.

Columns: ``reader`` (user name), ``version`` (number, from 1), ``text_sha256`` (of the text the
reader accepted), ``accepted_at`` (ISO, server time), ``version_saved_at`` (ISO). Ordered by
reader, version. It carries no truth, so every exporter may download it.
"""

import pandas as pd

from readerstudy.reading.models import ConsentAcceptance
from readerstudy.studies.models import ReaderStudy

COLUMNS = ("reader", "version", "text_sha256", "accepted_at", "version_saved_at")


def consent_table(study: ReaderStudy) -> pd.DataFrame:
    rows = (
        ConsentAcceptance.objects.filter(version__study=study)
        .select_related("version", "user")
        .order_by("user__username", "version__number")
    )
    frame = pd.DataFrame(
        [
            (
                a.user.username,
                a.version.number,
                a.text_sha256,
                a.accepted_at.isoformat(),
                a.version.created_at.isoformat(),
            )
            for a in rows
        ],
        columns=list(COLUMNS),
    )
    return frame.astype(
        {
            "reader": "string",
            "version": "Int64",
            "text_sha256": "string",
            "accepted_at": "string",
            "version_saved_at": "string",
        }
    )
