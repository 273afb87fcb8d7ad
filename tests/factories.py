"""factory_boy factories shared by the app tests."""

import factory

from readerstudy.accounts.models import ReaderProfile, Role, Specialty, User

PASSWORD = "test-password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.READER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ReaderFactory(UserFactory):
    role = Role.READER
    profile = factory.RelatedFactory(
        "tests.factories.ReaderProfileFactory", factory_related_name="user"
    )


class CoordinatorFactory(UserFactory):
    role = Role.COORDINATOR
    is_staff = True


class StatisticianFactory(UserFactory):
    role = Role.STATISTICIAN


class AnnotatorFactory(UserFactory):
    role = Role.ANNOTATOR


class AdjudicatorFactory(UserFactory):
    role = Role.ADJUDICATOR


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class ReaderProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReaderProfile

    user = factory.SubFactory(UserFactory)
    specialty = Specialty.RADIOLOGIST
    years_experience = 5


# --- cases -----------------------------------------------------------------------------------
from readerstudy.cases.models import Case, Series  # noqa: E402


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    code = factory.Sequence(lambda n: f"C{n:05d}")
    source_key = factory.Sequence(lambda n: f"{n:064x}")


class SeriesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Series
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    study_instance_uid = factory.Sequence(lambda n: f"2.25.1{n}")
    series_instance_uid = factory.Sequence(lambda n: f"2.25.2{n}")
    modality = "CT"
    rows = 512
    columns = 512
    num_slices = 30
    pixel_spacing_row = 0.45
    pixel_spacing_col = 0.45
    slice_spacing = 5.0
    orientation = [1, 0, 0, 0, 1, 0]
    origin = [0, 0, 0]
    content_hash = factory.Sequence(lambda n: f"{n:064x}")

    @factory.post_generation
    def make_primary(obj, create, extracted, **kwargs):
        if create and obj.case.primary_series_id is None:
            obj.case.primary_series = obj
            obj.case.save(update_fields=["primary_series"])


# --- ai --------------------------------------------------------------------------------------
from readerstudy.ai.models import ModelVersion  # noqa: E402


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion
        django_get_or_create = ("model_id", "version")

    model_id = "cvst_ich_demo"
    version = "1.0.0"
    name = "CVST-ICH demo"
    manifest = factory.LazyFunction(dict)
    weights_sha256 = "0" * 64
    positive_label = "cvst_ich"
    operating_points = factory.LazyFunction(
        lambda: {"high_sensitivity": 0.3, "high_specificity": 0.7}
    )
    explainers = factory.LazyFunction(lambda: ["gradcampp", "ig", "shap", "occlusion"])


def cases_with_series(n: int) -> list:
    return [SeriesFactory().case for _ in range(n)]


def make_inference_output(case, model_version, *, shape=(4, 16, 16), methods=("gradcampp", "ig")):
    """A succeeded job with stored heatmaps and mask (small NIfTI volumes) for a case."""
    import hashlib

    import numpy as np
    import SimpleITK as sitk

    from readerstudy.ai.models import Heatmap, InferenceJob, InferenceOutput
    from readerstudy.ai.outputs import save_heatmap, save_mask

    reference = sitk.GetImageFromArray(np.zeros(shape, dtype=np.uint8))

    def store(array):
        if array.dtype == np.uint8:
            return save_mask(array, reference)
        return save_heatmap(array, reference)

    rng = np.random.default_rng(0)
    job = InferenceJob.objects.create(
        case=case,
        series=case.primary_series,
        model_version=model_version,
        params={},
        params_hash=hashlib.sha256(b"{}").hexdigest(),
        status=InferenceJob.Status.SUCCEEDED,
        done=100,
        total=100,
    )
    mask = np.zeros(shape, dtype=np.uint8)
    mask[1:3, 4:9, 4:9] = 1
    output = InferenceOutput.objects.create(
        job=job,
        probabilities={"cvst_ich": 0.8125},
        decisions={"high_sensitivity": {"cvst_ich": 1}, "high_specificity": {"cvst_ich": 1}},
        mask=store(mask),
        provenance={"model": model_version.model_id},
    )
    for method in methods:
        signed = method in ("ig", "shap")
        data = rng.normal(size=shape).astype(np.float32)
        Heatmap.objects.create(
            output=output,
            method=method,
            label=model_version.positive_label,
            signed=signed,
            file=store(data if signed else np.abs(data)),
            params={},
            passes=1,
            value_range=[float(data.min()), float(data.max())],
        )
    return output


# --- endpoints -------------------------------------------------------------------------------
from readerstudy.studies.models import Endpoint, EndpointKind, TruthField  # noqa: E402


class EndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint of a draft study (pass ``study`` and, for a read endpoint, ``question``)."""

    class Meta:
        model = Endpoint

    code = factory.Sequence(lambda n: f"endpoint{n}")
    name = factory.LazyAttribute(lambda e: e.code)
    kind = EndpointKind.BINARY
    truth_field = TruthField.ETIOLOGY
    labels = factory.LazyFunction(
        lambda: [{"value": "cvst_ich", "label": "CVST-ICH"}, {"value": "sich", "label": "sICH"}]
    )
    is_primary = False
    order = factory.Sequence(lambda n: n + 1)
