"""The question editor's marks settings: shown, checked field by field, and kept on an edit."""

import json

import pytest

from readerstudy.studies import services
from readerstudy.studies.models import Design
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db

CONFIG = {"tools": ["point", "slice", "brush"], "rating_min": 0, "rating_max": 4,
          "max_marks": 7, "threshold_hu_low": 35, "threshold_hu_high": 85}  # fmt: skip
SUBTYPES = [{"value": "sdh", "label": "Subdural"}, {"value": "iph", "label": "Intraparenchymal"}]


@pytest.fixture
def coordinator_client(client):
    assert client.login(username=CoordinatorFactory().username, password=PASSWORD)
    return client


@pytest.fixture
def draft():
    return services.create_study(
        title="marks editor", design=Design.UNAIDED_ONLY, randomization_seed=1, preset="seed003"
    )


def _post_data(code="lesions", qtype="marks", options=SUBTYPES, config=CONFIG, **fields) -> dict:
    data = {"code": code, "type": qtype, "text": "Mark the hemorrhage", "help_text": "",
            "required": "on", "show_if": "", "options-TOTAL_FORMS": str(len(options) + 1),
            "options-INITIAL_FORMS": "0", **fields}  # fmt: skip
    for i, option in enumerate(options):
        data[f"options-{i}-value"] = option["value"]
        data[f"options-{i}-label"] = option["label"]
    for key, value in config.items():
        data[f"marks-{key}"] = value
    return data


def _put_questions(client, study, questions):
    return client.put(
        f"/api/studies/{study.pk}/questions/",
        json.dumps(questions),
        content_type="application/json",
    )


def _marks_api_question(config=CONFIG):
    return {"code": "lesions", "type": "marks", "text": "Mark the hemorrhage",
            "options": SUBTYPES, "config": config}  # fmt: skip


def test_a_marks_question_made_in_the_editor_stores_its_settings(coordinator_client, draft):
    page = coordinator_client.get(f"/studies/{draft.pk}/questions/new/").content.decode()
    assert 'id="marks-settings"' in page and 'name="marks-threshold_hu_low"' in page
    r = coordinator_client.post(f"/studies/{draft.pk}/questions/new/", _post_data())
    assert r.status_code == 302, r.content.decode()
    q = draft.questions.get(code="lesions")
    assert q.config == CONFIG
    assert q.options == SUBTYPES


def test_editing_an_api_made_marks_question_keeps_its_settings(coordinator_client, draft):
    r = _put_questions(coordinator_client, draft, [_marks_api_question()])
    assert r.status_code == 200, r.content
    form = coordinator_client.get(f"/studies/{draft.pk}/questions/lesions/edit/").content.decode()
    # the stored settings are the form's values
    assert 'name="marks-max_marks" value="7"' in form
    assert 'name="marks-threshold_hu_high" value="85"' in form
    assert 'value="slice"' in form and 'value="slice" id="id_marks-tools_3" checked' in form
    assert 'value="ellipse" id="id_marks-tools_1" checked' not in form
    # change only the text: the settings stay as they were
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/lesions/edit/",
        _post_data(text="Mark every hemorrhage"),
    )
    assert r.status_code == 302, r.content.decode()
    q = draft.questions.get(code="lesions")
    assert q.text == "Mark every hemorrhage"
    assert q.config == CONFIG
    # change one setting: that one changes
    changed = {**CONFIG, "max_marks": 3, "tools": ["ellipse", "point"]}
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/lesions/edit/", _post_data(config=changed)
    )
    assert r.status_code == 302
    q = draft.questions.get(code="lesions")  # every save stores the question set anew
    assert q.config == {**changed, "tools": ["point", "ellipse"]}
    api = coordinator_client.get(f"/api/studies/{draft.pk}/").json()
    assert next(x for x in api["questions"] if x["code"] == "lesions")["config"]["max_marks"] == 3


def test_a_partial_api_config_shows_the_defaults_and_saves_them(coordinator_client, draft):
    r = _put_questions(coordinator_client, draft, [_marks_api_question({"max_marks": 9})])
    assert r.status_code == 200, r.content
    form = coordinator_client.get(f"/studies/{draft.pk}/questions/lesions/edit/").content.decode()
    assert 'name="marks-max_marks" value="9"' in form
    assert 'name="marks-threshold_hu_low" value="40"' in form  # the default
    assert 'name="marks-rating_max" value="5"' in form


@pytest.mark.parametrize(
    ("config", "field", "words"),
    [
        ({**CONFIG, "tools": []}, "marks-tools", "pick at least one tool"),
        ({**CONFIG, "rating_min": 5, "rating_max": 5}, "marks-rating_max",
         "the highest rating (5) must be above the lowest (5)"),
        ({**CONFIG, "max_marks": 0}, "marks-max_marks", "must be from 1 to 500 marks"),
        ({**CONFIG, "max_marks": ""}, "marks-max_marks", "a marks question needs this setting"),
        ({**CONFIG, "threshold_hu_low": 100}, "marks-threshold_hu_high",
         "the upper HU (85) must be above the lower (100)"),
        ({**CONFIG, "threshold_hu_high": 5000}, "marks-threshold_hu_high",
         "must be from -1024 to 3071 HU"),
        ({**CONFIG, "rating_min": "x"}, "marks-rating_min", "Enter a whole number."),
    ],
)  # fmt: skip
def test_bad_settings_are_named_beside_their_field_and_nothing_is_stored(
    coordinator_client, draft, config, field, words
):
    before = list(draft.questions.values_list("code", flat=True))
    r = coordinator_client.post(f"/studies/{draft.pk}/questions/new/", _post_data(config=config))
    assert r.status_code == 400
    page = r.content.decode()
    start = page.index(f'id="field-{field}"')
    end = page.find('<div class="field', start + 1)
    assert words in page[start:end]
    assert list(draft.questions.values_list("code", flat=True)) == before


def test_slice_marks_without_labels_are_refused_by_the_service(coordinator_client, draft):
    r = coordinator_client.post(f"/studies/{draft.pk}/questions/new/", _post_data(options=[]))
    assert r.status_code == 400
    assert "slice marks need their labels as the question&#x27;s options" in r.content.decode()
    assert not draft.questions.filter(code="lesions").exists()


def test_another_type_ignores_the_marks_settings_and_stores_no_config(coordinator_client, draft):
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/new/",
        _post_data(code="note", qtype="free_text", options=[], config={"max_marks": "0"}),
    )
    assert r.status_code == 302, r.content.decode()
    assert draft.questions.get(code="note").config == {}


def test_turning_a_marks_question_into_another_type_drops_its_settings(coordinator_client, draft):
    assert _put_questions(coordinator_client, draft, [_marks_api_question()]).status_code == 200
    r = coordinator_client.post(
        f"/studies/{draft.pk}/questions/lesions/edit/",
        _post_data(qtype="single_choice"),
    )
    assert r.status_code == 302, r.content.decode()
    q = draft.questions.get(code="lesions")
    assert q.type == "single_choice" and q.config == {}


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"threshold_hu_low": 90, "threshold_hu_high": 40},
         "threshold_hu_low must be below threshold_hu_high"),
        ({"threshold_hu_low": -2000}, "threshold_hu_low must be from -1024 to 3071 HU"),
        ({"threshold_hu_high": 60.5}, "threshold_hu_high must be an integer"),
    ],
)  # fmt: skip
def test_the_api_refuses_a_bad_threshold_window_by_name(coordinator_client, draft, config, words):
    r = _put_questions(coordinator_client, draft, [_marks_api_question(config)])
    assert r.status_code == 400
    assert words in r.content.decode(), r.content
    assert not draft.questions.filter(code="lesions").exists()
