"""An import-linter contract type the built-in ones cannot express: "these modules import, of
the project's own packages, only these" (an allow-list; ``forbidden`` is a deny-list, which a new
core module would slip past). Used by ``[tool.importlinter]`` in pyproject.toml to keep every
``rules`` module on the kernel (core.money, core.periods, core.errors). Dev tooling only: nothing
at run time imports this module.
"""
from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class AllowedImportsContract(Contract):
    """Options: ``source_modules`` (each taken with its submodules, which may import each other)
    and ``allowed_modules`` (each with its submodules). Only direct imports are checked: what a
    kernel module imports is the kernel's own business."""

    type_name = "allowed_imports"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        roots = {name.split(".")[0] for name in graph.modules if not graph.is_module_squashed(name)}
        allowed = [module.name for module in self.allowed_modules]  # type: ignore[attr-defined]
        illegal = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            own = source.name
            if own not in graph.modules:
                continue
            for importer in sorted({own} | graph.find_descendants(own)):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if imported.split(".")[0] not in roots or _within(imported, own):
                        continue
                    if any(_within(imported, ok) for ok in allowed):
                        continue
                    lines = [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]
                    illegal.append((importer, imported, lines))
        return ContractCheck(kept=not illegal, metadata={"illegal": illegal})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, lines in check.metadata["illegal"]:
            output.print_error(f"{importer} -> {imported} (l.{', '.join(map(str, lines))})", bold=False)
            output.new_line()
