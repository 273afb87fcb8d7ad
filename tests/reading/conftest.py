import pytest

from readerstudy.studies import services
from tests.factories import ModelVersionFactory, ReaderFactory, cases_with_series


@pytest.fixture
def make_study(db):
    """Build a study of a design with n cases and m readers; open it unless told not to."""

    def build(design, *, n_cases=6, n_readers=2, seed=1234, washout_days=0, open_it=True):
        study = services.create_study(
            title=f"{design} study",
            design=design,
            randomization_seed=seed,
            washout_days=washout_days,
        )
        services.add_cases(study, cases_with_series(n_cases))
        readers = [ReaderFactory() for _ in range(n_readers)]
        for user in readers:
            services.enroll_reader(study, user)
        services.configure_assistance(study, model_version=ModelVersionFactory())
        if open_it:
            study = services.open_study(study)
        return study, readers

    return build
