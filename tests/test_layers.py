"""Imports point one way: a module imports only from its own layer or the layers below (README, "Layers").

Read from the source with ``ast``, lazy imports inside functions included, so a shortcut
taken anywhere in the package fails here rather than in a review.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "correlator"

# lowest first; a module's layer is that of the longest prefix listed
LAYERS: dict[str, int] = {
    "correlator.records": 0,
    "correlator.errors": 0,
    "correlator.config": 0,
    "correlator.schemas_dir": 0,
    "correlator.redaction": 0,
    "correlator.sources": 1,
    "correlator.formats": 1,
    "correlator.emit": 1,
    "correlator.processing": 2,
    "correlator.warehouse": 3,
    "correlator.runtime": 4,
    "correlator.commands": 5,
    "correlator.devkit": 5,
    "correlator": 6,  # the package root and ``python -m correlator``
}
# what the emitter, installed alone (the correlator-emit distribution), may import
EMITTER_MAY_IMPORT = ("correlator.emit", "correlator.redaction")


def layer_of(module: str) -> int:
    best = max((prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")), key=len)
    return LAYERS[best]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, known: set[str]) -> set[str]:
    """The correlator modules a module's code imports (``from package import module`` resolved to the module)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return {name for name in found if name == "correlator" or name.startswith("correlator.")}


def violations(sources: Mapping[str, str]) -> list[str]:
    """``importer imports imported``, for every import that reaches up a layer."""
    known = set(sources)
    return sorted(
        f"{importer} (layer {layer_of(importer)}) imports {imported} (layer {layer_of(imported)})"
        for importer, source in sources.items()
        for imported in imported_modules(source, known)
        if layer_of(imported) > layer_of(importer)
    )


def package_sources() -> dict[str, str]:
    return {module_name(path): path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}


def outside(imports: Iterable[str], allowed: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports if not any(name == a or name.startswith(a + ".") for a in allowed))


def test_no_module_imports_a_higher_layer():
    assert violations(package_sources()) == []


def test_the_records_import_nothing_of_correlator():
    sources = package_sources()
    assert imported_modules(sources["correlator.records"], set(sources)) == set()


def test_the_emitter_imports_only_what_its_own_distribution_ships():
    sources = package_sources()
    for name, source in sources.items():
        if name.startswith("correlator.emit"):
            assert outside(imported_modules(source, set(sources)), EMITTER_MAY_IMPORT) == [], name


def test_a_reaching_import_is_reported_even_when_lazy_or_from_a_package():
    sources = {
        "correlator.records": "",
        "correlator.commands.cli": "",
        "correlator.warehouse.writer": "def f():\n    from correlator.commands import cli\n",
        "correlator.formats.decode": "import correlator.processing.rows\n",
        "correlator.processing.rows": "from correlator.records import Table\n",
    }
    assert violations(sources) == [
        "correlator.formats.decode (layer 1) imports correlator.processing.rows (layer 2)",
        "correlator.warehouse.writer (layer 3) imports correlator.commands.cli (layer 5)",
    ]
