"""The panel vote runs on a worker: queued on commit by the last annotation, shown as voting
meanwhile, stored once however often it is delivered, and a failure is recorded, shown and
can be run again."""

import pytest
from django.test import TestCase

from readerstudy.core.jobs import JobStatus
from readerstudy.panels import runner, services
from readerstudy.panels.errors import PanelConflict
from readerstudy.panels.models import ConsensusMask, Panel, PanelItem, PanelVote
from tests.factories import PASSWORD

from .conftest import LABELS, annotate_all

pytestmark = pytest.mark.django_db


def _annotate_but_run_nothing(world, django_capture_on_commit_callbacks):
    """Every annotation, keeping the callbacks their commit would run: (callbacks)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for index, case in enumerate(world["cases"]):
            for user, values in zip(world["annotators"], LABELS[index], strict=True):
                services.annotate(user, world["panel"].pk, case.code, values)
    return callbacks


def test_the_last_annotation_queues_the_vote_and_the_worker_stores_it(
    panel_world, django_capture_on_commit_callbacks
):
    world = panel_world()
    panel = world["panel"]
    callbacks = _annotate_but_run_nothing(world, django_capture_on_commit_callbacks)
    assert len(callbacks) == 1  # only the last annotation queues it
    panel.refresh_from_db()
    vote = PanelVote.objects.get(panel=panel)
    assert (panel.status, vote.status) == (Panel.Status.VOTING, JobStatus.QUEUED)
    assert not PanelItem.objects.filter(panel_case__panel=panel).exists()  # nothing yet
    callbacks[0]()  # the broker delivers it (eager in tests)
    vote.refresh_from_db()
    panel.refresh_from_db()
    assert vote.status == JobStatus.SUCCEEDED and vote.attempts == 1
    assert panel.status == Panel.Status.ADJUDICATING
    items = PanelItem.objects.filter(panel_case__panel=panel)
    # per case: ich_present, location, five subtypes; only case 1's location has no majority
    assert vote.items == items.count() == 2 * (2 + 5)
    assert vote.to_adjudicate == items.filter(needs_adjudication=True).count() == 1


def test_a_vote_delivered_again_stores_its_items_once(panel_world):
    world = panel_world()
    annotate_all(world)
    vote = PanelVote.objects.get(panel=world["panel"])
    stored = sorted(PanelItem.objects.values_list("pk", flat=True))
    assert runner.execute_vote(vote_id=str(vote.pk)) == "already-done"
    # a worker died after claiming it: the broker delivers it again, it runs again
    PanelVote.objects.filter(pk=vote.pk).update(status=JobStatus.RUNNING)
    assert runner.execute_vote(vote_id=str(vote.pk)) == "already-done"
    assert sorted(PanelItem.objects.values_list("pk", flat=True)) == stored
    vote.refresh_from_db()
    assert vote.status == JobStatus.SUCCEEDED and vote.attempts == 2


def test_a_redelivery_before_anything_was_stored_runs_the_whole_vote(
    panel_world, django_capture_on_commit_callbacks
):
    world = panel_world()
    _annotate_but_run_nothing(world, django_capture_on_commit_callbacks)
    vote = PanelVote.objects.get(panel=world["panel"])
    PanelVote.claim(vote.pk)  # the first worker took it, then died before storing
    assert runner.execute_vote(vote_id=str(vote.pk)) == "done"
    vote.refresh_from_db()
    assert (vote.status, vote.attempts, vote.items) == (JobStatus.SUCCEEDED, 2, 14)
    assert PanelItem.objects.filter(panel_case__panel=world["panel"]).count() == 14


def _as(client, user):
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_while_voting_the_pages_say_so(panel_world, client, django_capture_on_commit_callbacks):
    world = panel_world()
    panel = world["panel"]
    _annotate_but_run_nothing(world, django_capture_on_commit_callbacks)
    page = _as(client, world["coordinator"]).get(f"/panels/{panel.pk}/").content.decode()
    assert '<dd id="panel-status">voting</dd>' in page
    assert 'http-equiv="refresh"' in page and "refreshes itself" in page
    assert 'data-job-status="queued"' in page and "panel-vote-rerun" not in page
    assert "panel-report-link" not in page
    assert client.get(f"/panels/{panel.pk}/report/").status_code == 404
    listing = _as(client, world["adjudicator"]).get(f"/panels/{panel.pk}/adjudicate/")
    assert "the vote is running" in listing.content.decode()
    assert "the vote settled every item" not in listing.content.decode()


def test_a_failed_vote_is_recorded_shown_and_run_again(panel_world, client, monkeypatch):
    world = panel_world()
    panel = world["panel"]

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(runner, "case_items", broken)
    with pytest.raises(RuntimeError, match="disk is full"):  # eager tasks propagate errors
        annotate_all(world)
    vote = PanelVote.objects.get(panel=panel)
    panel.refresh_from_db()
    assert vote.status == JobStatus.FAILED and vote.error_code == "RuntimeError"
    assert "the disk is full" in vote.error
    assert panel.status == Panel.Status.VOTING
    assert not PanelItem.objects.filter(panel_case__panel=panel).exists()
    page = _as(client, world["coordinator"]).get(f"/panels/{panel.pk}/").content.decode()
    assert 'data-job-status="failed"' in page and "the disk is full" in page
    assert 'id="panel-vote-rerun"' in page and 'http-equiv="refresh"' not in page

    monkeypatch.undo()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/panels/{panel.pk}/vote/rerun/")
    assert response.status_code == 302
    vote.refresh_from_db()
    panel.refresh_from_db()
    assert (vote.status, vote.attempts, vote.error) == (JobStatus.SUCCEEDED, 2, "")
    assert panel.status == Panel.Status.ADJUDICATING
    assert PanelItem.objects.filter(panel_case__panel=panel).count() == 14
    with pytest.raises(PanelConflict, match="no vote to run again"):
        services.rerun_vote(world["coordinator"], panel.pk)


def test_a_queued_vote_is_not_queued_twice(panel_world, django_capture_on_commit_callbacks):
    world = panel_world()
    _annotate_but_run_nothing(world, django_capture_on_commit_callbacks)
    with pytest.raises(PanelConflict, match="the vote is queued"):
        services.rerun_vote(world["coordinator"], world["panel"].pk)
    assert not ConsensusMask.objects.exists()
