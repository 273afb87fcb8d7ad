"""The coordinator's consent editor on the study page (see :mod:`.consent` for versioning)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from readerstudy.accounts.decorators import coordinator_required

from .consent import current_version, set_consent_text
from .errors import StudyError
from .models import ReaderStudy


@coordinator_required
@require_POST
def consent_edit(request, pk: int):
    study = get_object_or_404(ReaderStudy, pk=pk)
    before = current_version(study)
    try:
        version = set_consent_text(study, request.POST.get("text", ""), by=request.user)
    except StudyError as exc:
        messages.error(request, exc.message)
    else:
        if version is None or (before and version.pk == before.pk and version.text == before.text):
            messages.info(request, "The consent text is unchanged.")
        elif before is not None and version.pk != before.pk:
            messages.success(
                request,
                f"Consent version {version.number} saved: readers accept it before their next read.",
            )
        else:
            messages.success(request, f"Consent text saved (version {version.number}).")
    return redirect(f"{reverse('study-detail', args=[study.pk])}#study-consent")
