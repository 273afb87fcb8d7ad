"""Steps the browser tests share."""

import zipfile
from pathlib import Path

from tests.factories import PASSWORD


def login(page, live_server, user):
    """Sign in as `user` on a fresh session; return once the sign-in page has been left."""
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def phantom_study_zip(
    folder: Path, seed: int, *, thin: bool = False, matrix: int = 128, extra=None
) -> Path:
    """One phantom study's DICOM files zipped under ``study/`` (``extra``: more members, name
    to text), as a user uploads them; written beside ``folder``, where the phantom goes."""
    from phantoms import generate_dataset

    records = generate_dataset(folder, 1, seed, thin=thin, matrix=matrix)
    path = folder.with_suffix(".zip")
    with zipfile.ZipFile(path, "w") as zf:
        for p in sorted((folder / records[0]["case_id"]).glob("*.dcm")):
            zf.write(p, f"study/{p.name}")
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    return path


def add_probability_only_condition(page, model) -> None:
    """On a draft study's page, add the condition "Probability only": ``model``'s probability,
    without its decision, mask outline or heatmaps."""
    page.click("#condition-add summary")
    form = page.locator("#condition-add form")
    form.locator("#id_new-name").fill("Probability only")
    form.locator("#id_new-model_version").select_option(str(model.pk))
    form.locator("#id_new-show_probability").check()
    for box in ("show_decision", "show_mask_outline"):
        form.locator(f"#id_new-{box}").uncheck()
    for box in form.locator('input[name="new-heatmaps"]').all():
        box.uncheck()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def open_reading(page, live_server, study, question: str) -> None:
    """Open ``study``'s reading page; return once the viewer has drawn its first image and the
    form asks ``question`` (an answer input's name)."""
    page.goto(f"{live_server.url}/read/{study.pk}/")
    page.wait_for_function(
        "(name) => { const ws = window.readerstudyWorkspace; return ws && ws.viewer"
        " && ws.viewer.getState().timings.firstImageMs != null"
        ' && document.querySelector(`input[name="${name}"]`); }',
        arg=question,
        timeout=60000,
    )
