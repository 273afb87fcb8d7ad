"""The draft's question editor, endpoint editor and presets, through the coordinator's pages."""

import pytest

from readerstudy.studies import services
from readerstudy.studies.models import Design, Endpoint, Question
from tests.factories import (
    PASSWORD,
    AdminFactory,
    CoordinatorFactory,
    ReaderFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client):
    assert client.login(username=CoordinatorFactory().username, password=PASSWORD)
    return client


@pytest.fixture
def draft():
    return services.create_study(
        title="editor", design=Design.UNAIDED_ONLY, randomization_seed=1, preset="seed003"
    )


def _rows(prefix: str, rows: list[tuple[str, str]], extra: int = 1) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows) + extra), f"{prefix}-INITIAL_FORMS": "0"}
    for i, (value, label) in enumerate(rows):
        data[f"{prefix}-{i}-value"] = value
        data[f"{prefix}-{i}-label"] = label
    return data


def _question(code="side", qtype="single_choice", options=(("left", "Left"), ("right", "Right")),
              **fields) -> dict:  # fmt: skip
    return {
        "code": code, "type": qtype, "text": f"{code}?", "help_text": "", "required": "on",
        "show_if": "", **fields, **_rows("options", list(options)),
    }  # fmt: skip


def _codes(study) -> list[str]:
    return list(study.questions.values_list("code", flat=True))


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# --- questions ---------------------------------------------------------------------------------


def test_the_draft_page_lists_the_questions_and_endpoints_with_their_actions(
    coordinator_client, draft
):
    page = coordinator_client.get(f"/studies/{draft.pk}/").content.decode()
    assert 'id="question-list"' in page and 'id="endpoint-list"' in page
    assert f"/studies/{draft.pk}/questions/location/edit/" in page
    assert "if <code>ich</code> is “yes”" in page  # location is asked only if ICH is present
    assert f"/studies/{draft.pk}/endpoints/location/edit/" in page
    assert 'id="preset-choice"' in page


def test_adding_a_question_appends_it_with_its_options_and_condition(coordinator_client, draft):
    form = coordinator_client.get(f"/studies/{draft.pk}/questions/new/").content.decode()
    assert 'value="eq:ich:yes"' in form and 'value="eq:location:deep"' in form
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/new/",
        _question(show_if="eq:location:lobar", help_text="as seen on the axial slices"),
    )
    assert r.status_code == 302 and r["Location"].endswith("#study-questions")
    assert _codes(draft) == ["ich", "location", "side"]
    side = draft.questions.get(code="side")
    assert side.options == [
        {"value": "left", "label": "Left"},
        {"value": "right", "label": "Right"},
    ]
    assert side.show_if == {"question": "location", "equals": "lobar"}
    assert side.help_text == "as seen on the axial slices" and side.required


def test_a_bad_option_set_is_refused_with_its_message_and_nothing_is_stored(
    coordinator_client, draft
):
    before = list(draft.questions.values())
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/new/",
        _question(code="third", qtype="binary", options=(("a", "A"), ("b", "B"), ("c", "C"))),
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "a binary question needs exactly two options" in page
    assert 'value="c"' in page  # the rows come back as typed, to be corrected
    assert list(draft.questions.values()) == before


def test_duplicate_option_values_and_a_label_without_value_are_named(coordinator_client, draft):
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/new/",
        _question(options=(("left", "Left"), ("left", "Again"), ("", "Orphan"))),
    )
    assert r.status_code == 400
    assert "a row with a label needs a value" in r.content.decode()
    assert _codes(draft) == ["ich", "location"]
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/new/",
        _question(options=(("left", "Left"), ("left", "Again"))),
    )
    assert r.status_code == 400 and "option values must be unique" in r.content.decode()
    assert _codes(draft) == ["ich", "location"]


def test_an_invalid_code_is_shown_beside_its_field(coordinator_client, draft):
    r = coordinator_client.post(f"/studies/{draft.pk}/questions/new/", _question(code="no spaces"))
    assert r.status_code == 400
    assert "no spaces" not in _codes(draft)
    assert r.context["form"].errors["code"]


def test_editing_a_question_keeps_its_place_and_renames_what_follows_it(coordinator_client, draft):
    form = coordinator_client.get(f"/studies/{draft.pk}/questions/ich/edit/").content.decode()
    assert 'value="ICH present"' in form  # its option rows, filled in
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/ich/edit/",
        _question(
            code="ich_present", qtype="binary", options=(("yes", "Yes"), ("no", "No")),
            is_primary="on",
        ),
    )  # fmt: skip
    assert r.status_code == 302
    assert _codes(draft) == ["ich_present", "location"]
    assert draft.questions.get(code="location").show_if == {
        "question": "ich_present",
        "equals": "yes",
    }
    ich = Endpoint.objects.get(study=draft, code="ich")
    assert ich.question.code == "ich_present"


def test_a_condition_on_a_later_question_is_refused(coordinator_client, draft):
    # The condition select offers only earlier questions; a forged one is refused by name.
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/ich/edit/",
        _question(code="ich", qtype="binary", options=(("yes", "Y"), ("no", "N")),
                  show_if="eq:location:deep"),
    )  # fmt: skip
    assert r.status_code == 400
    assert "Select a valid choice" in r.content.decode()
    assert draft.questions.get(code="ich").show_if == {}


def test_moving_a_question_reorders_and_a_move_breaking_a_condition_is_refused(
    coordinator_client, draft
):
    coordinator_client.post(f"/studies/{draft.pk}/questions/new/", _question())
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/side/move/", {"direction": "up"}, follow=True
    )
    assert _codes(draft) == ["ich", "side", "location"]
    assert "Question “side” moved." in _messages(r)
    coordinator_client.post(f"/studies/{draft.pk}/questions/ich/move/", {"direction": "up"})
    assert _codes(draft) == ["ich", "side", "location"]  # the first stays first
    coordinator_client.post(f"/studies/{draft.pk}/questions/side/move/", {"direction": "down"})
    assert _codes(draft) == ["ich", "location", "side"]
    # location is asked only if ich is "yes": it cannot move above ich.
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/location/move/", {"direction": "up"}, follow=True
    )
    assert "not a question before it" in _messages(r)
    assert _codes(draft) == ["ich", "location", "side"]


def test_deleting_a_question_and_a_question_in_use_is_kept(coordinator_client, draft):
    coordinator_client.post(f"/studies/{draft.pk}/questions/new/", _question())
    r = coordinator_client.post(f"/studies/{draft.pk}/questions/side/delete/", follow=True)
    assert _codes(draft) == ["ich", "location"]
    assert "Question “side” deleted." in _messages(r)
    r = coordinator_client.post(f"/studies/{draft.pk}/questions/ich/delete/", follow=True)
    assert "the condition of question 'location'" in _messages(r)
    assert "endpoint 'ich'" in _messages(r)
    assert _codes(draft) == ["ich", "location"]


def test_an_unknown_question_is_404(coordinator_client, draft):
    assert coordinator_client.get(f"/studies/{draft.pk}/questions/nope/edit/").status_code == 404


# --- endpoints ---------------------------------------------------------------------------------


def _endpoint(code="side", **fields) -> dict:
    return {
        "code": code, "name": "Side", "kind": "multi_class", "truth_field": "location",
        "question": "location", "rating_question": "", **fields,
        **_rows("labels", [("deep", "Deep"), ("lobar", "Lobar"), ("subtentorial", "")]),
    }  # fmt: skip


def test_adding_editing_and_deleting_an_endpoint(coordinator_client, draft):
    r = coordinator_client.post(f"/studies/{draft.pk}/endpoints/new/", _endpoint())
    assert r.status_code == 302 and r["Location"].endswith("#study-endpoints")
    side = draft.endpoints.get(code="side")
    assert side.question.code == "location" and side.rating_question is None
    assert side.labels[-1] == {"value": "subtentorial", "label": "subtentorial"}

    form = coordinator_client.get(f"/studies/{draft.pk}/endpoints/side/edit/").content.decode()
    assert 'value="lobar"' in form
    r = coordinator_client.post(
        f"/studies/{draft.pk}/endpoints/side/edit/",
        _endpoint(name="Side (primary)", is_primary="on"),
    )
    assert r.status_code == 302
    # One primary endpoint: marking this one unmarks the other.
    assert list(draft.endpoints.filter(is_primary=True).values_list("code", flat=True)) == ["side"]

    r = coordinator_client.post(f"/studies/{draft.pk}/endpoints/location/delete/", follow=True)
    assert "Endpoint “location” deleted." in _messages(r)
    assert list(draft.endpoints.values_list("code", flat=True)) == ["ich", "side"]


def test_a_bad_endpoint_is_refused_by_name_and_nothing_is_stored(coordinator_client, draft):
    before = list(draft.endpoints.values())
    r = coordinator_client.post(
        f"/studies/{draft.pk}/endpoints/new/", _endpoint(truth_field="etiology")
    )
    assert r.status_code == 400
    assert "endpoint &#x27;side&#x27;: a multi_class endpoint reads its truth from location" in (
        r.content.decode()
    )
    r = coordinator_client.post(f"/studies/{draft.pk}/endpoints/new/", _endpoint(question="ich"))
    assert (
        r.status_code == 400 and "a multi_class endpoint needs single_choice" in r.content.decode()
    )
    assert list(draft.endpoints.values()) == before


def test_the_only_primary_endpoint_cannot_be_deleted(coordinator_client, draft):
    r = coordinator_client.post(f"/studies/{draft.pk}/endpoints/ich/delete/", follow=True)
    assert "exactly one endpoint must be primary" in _messages(r)
    assert draft.endpoints.filter(code="ich").exists()


# --- presets -----------------------------------------------------------------------------------


def test_the_create_form_offers_the_presets_and_creates_with_the_chosen_one(coordinator_client):
    page = coordinator_client.get("/studies/").content.decode()
    assert '<option value="seed000" selected>' in page
    assert "ICH and hematoma location (seed 003)" in page
    r = coordinator_client.post(
        "/studies/", {"title": "Location", "design": "unaided_only", "washout_days": 0,
                      "preset": "seed003"}, follow=True,
    )  # fmt: skip
    study = r.context["study"]
    assert _codes(study) == ["ich", "location"]
    assert set(study.endpoints.values_list("code", flat=True)) == {"ich", "location"}


def test_applying_a_preset_asks_first_then_replaces_questions_and_endpoints(
    coordinator_client, draft
):
    confirm = coordinator_client.get(f"/studies/{draft.pk}/preset/?preset=seed002")
    assert confirm.status_code == 200
    assert "ICH and five subtypes (seed 002)" in confirm.content.decode()
    assert _codes(draft) == ["ich", "location"]  # nothing changed by asking
    r = coordinator_client.post(f"/studies/{draft.pk}/preset/", {"preset": "seed002"}, follow=True)
    assert "replaced with the preset" in _messages(r)
    assert _codes(draft) == ["ich", "confidence"]
    assert draft.questions.get(code="ich").type == "multi_label"
    assert list(draft.endpoints.values_list("code", flat=True)) == ["subtypes"]


def test_an_unknown_preset_is_refused(coordinator_client, draft):
    r = coordinator_client.post(f"/studies/{draft.pk}/preset/", {"preset": "seed999"}, follow=True)
    assert "Unknown preset 'seed999'." in _messages(r)
    assert _codes(draft) == ["ich", "location"]


# --- who may edit, and when ------------------------------------------------------------------

EDITS = [
    ("get", "questions/new/", {}),
    ("post", "questions/new/", _question()),
    ("post", "questions/location/edit/", _question(code="location")),
    ("post", "questions/location/move/", {"direction": "up"}),
    ("post", "questions/location/delete/", {}),
    ("post", "endpoints/new/", _endpoint()),
    ("post", "endpoints/location/delete/", {}),
    ("post", "preset/", {"preset": "seed000"}),
]


@pytest.mark.parametrize("factory", [ReaderFactory, StatisticianFactory])
@pytest.mark.parametrize(("method", "path", "data"), EDITS)
def test_only_coordinators_may_edit(client, draft, factory, method, path, data):
    assert client.login(username=factory().username, password=PASSWORD)
    r = getattr(client, method)(f"/studies/{draft.pk}/{path}", data)
    assert r.status_code == 403
    assert _codes(draft) == ["ich", "location"] and draft.endpoints.count() == 2


@pytest.mark.parametrize(("method", "path", "data"), EDITS)
def test_signed_out_callers_are_sent_to_sign_in(client, draft, method, path, data):
    r = getattr(client, method)(f"/studies/{draft.pk}/{path}", data)
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert _codes(draft) == ["ich", "location"]


def test_an_admin_may_edit(client, draft):
    assert client.login(username=AdminFactory().username, password=PASSWORD)
    r = client.post(f"/studies/{draft.pk}/questions/new/", _question())
    assert r.status_code == 302 and _codes(draft) == ["ich", "location", "side"]


@pytest.mark.parametrize(("method", "path", "data"), EDITS)
def test_an_opened_study_cannot_be_edited(coordinator_client, draft, method, path, data):
    draft.status = draft.Status.OPEN
    draft.save(update_fields=["status"])
    before = list(Question.objects.filter(study=draft).values())
    r = getattr(coordinator_client, method)(f"/studies/{draft.pk}/{path}", data, follow=True)
    assert r.redirect_chain and r.redirect_chain[-1][0].startswith(f"/studies/{draft.pk}/")
    assert "its design can no longer change" in _messages(r)
    assert list(Question.objects.filter(study=draft).values()) == before
    assert draft.endpoints.count() == 2


def test_the_frozen_page_shows_questions_and_endpoints_read_only(coordinator_client, draft):
    draft.status = draft.Status.CLOSED
    draft.save(update_fields=["status"])
    page = coordinator_client.get(f"/studies/{draft.pk}/").content.decode()
    assert 'id="frozen-questions"' in page and 'id="frozen-endpoints"' in page
    assert "Location of the hematoma" in page and "Hematoma location" in page
    assert "/questions/" not in page and "/endpoints/" not in page and "/preset/" not in page
