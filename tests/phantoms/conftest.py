"""Shared phantom fixtures: render and write a few cases once per session."""

from __future__ import annotations

import pytest

from phantoms import make_case, write_case


@pytest.fixture(scope="session")
def case_512():
    return make_case(21, "cvst_ich")


@pytest.fixture(scope="session")
def written_512(case_512, tmp_path_factory):
    out = tmp_path_factory.mktemp("ph512")
    return case_512, write_case(case_512, out)


@pytest.fixture(scope="session")
def written_128(tmp_path_factory):
    out = tmp_path_factory.mktemp("ph128")
    case = make_case(8, "sich", matrix=128)
    return case, write_case(case, out)
