"""The project's own import-linter contract type (config.import_contracts): a rules module may
import the kernel and its own package, and nothing else of the project."""
from __future__ import annotations

import grimp

from config.import_contracts import AllowedImportsContract


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        for name in (importer, imported):
            graph.add_module(name)
        graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="import x")
    return graph


def _check(graph):
    contract = AllowedImportsContract(
        name="rules", session_options={},
        contract_options={"source_modules": ["app.rules"], "allowed_modules": ["core.money"]},
    )
    return contract.check(graph, verbose=False)


def test_rules_may_import_the_kernel_and_their_own_package():
    graph = _graph(("app.rules", "core.money"), ("app.rules.quotes", "app.rules.params"), ("app.views", "app.models"))
    assert _check(graph).kept


def test_rules_importing_a_model_or_another_app_break_the_contract():
    graph = _graph(("app.rules", "core.money"), ("app.rules.quotes", "app.models"), ("app.rules", "other.rules"))
    check = _check(graph)
    assert not check.kept
    assert [(importer, imported) for importer, imported, _lines in check.metadata["illegal"]] == [
        ("app.rules", "other.rules"), ("app.rules.quotes", "app.models")]
