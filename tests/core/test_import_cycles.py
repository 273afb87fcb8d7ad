"""No import cycles between the modules of an app (web services -> tasks -> worker runners).

grimp (shipped with import-linter) sees every import, also those inside functions, so a lazy
``from .tasks import ...`` in a service that ``tasks`` imports back is a cycle here.
"""

import grimp
import pytest

APPS = ("accounts", "ai", "cases", "core", "demo", "exports", "reading", "studies")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph("readerstudy")


def cycles(graph, package: str) -> list[list[str]]:
    """Strongly connected groups of two or more modules within ``package`` (Tarjan)."""
    modules = sorted(graph.find_descendants(package))
    inside = set(modules)
    edges = {m: sorted(set(graph.find_modules_directly_imported_by(m)) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.services", "pkg.tasks", "pkg.runner"):
        graph.add_module(name)
    graph.add_import(importer="pkg.services", imported="pkg.tasks")
    graph.add_import(importer="pkg.tasks", imported="pkg.runner")
    assert cycles(graph, "pkg") == []
    graph.add_import(importer="pkg.tasks", imported="pkg.services")
    assert cycles(graph, "pkg") == [["pkg.services", "pkg.tasks"]]


@pytest.mark.parametrize("app", APPS)
def test_no_import_cycles_within_an_app(graph, app):
    assert cycles(graph, f"readerstudy.{app}") == []


@pytest.mark.parametrize("app", ["ai", "core", "exports"])
def test_services_enqueue_tasks_and_tasks_call_runners(graph, app):
    package = f"readerstudy.{app}"
    assert graph.direct_import_exists(importer=f"{package}.services", imported=f"{package}.tasks")
    assert graph.direct_import_exists(importer=f"{package}.tasks", imported=f"{package}.runner")
    for worker_side in ("tasks", "runner"):
        assert not graph.chain_exists(
            importer=f"{package}.{worker_side}", imported=f"{package}.services"
        ), f"{package}.{worker_side} reaches the web-side services"
