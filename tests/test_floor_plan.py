"""The floor plan: each package imports only from the floors below it (or its own), and never a private name
(``_x``) of another package. Floors, bottom up: core; curation; selection and prompts; evals; flows.

Checked on the source with ``ast`` (function-level imports included), so a late import cannot hide an upward edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLOOR = {"core": 0, "curation": 1, "selection": 2, "prompts": 2, "evals": 3, "flows": 4}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [a.name for a in node.names]


def _edges():
    for package in FLOOR:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module, names in _imports(path):
                target = module.split(".")[0]
                if target in FLOOR:
                    yield package, path.relative_to(ROOT), line, module, names


def test_packages_only_import_downward():
    upward = [f"{p}:{line} imports {m}" for pkg, p, line, m, _ in _edges() if FLOOR[m.split(".")[0]] > FLOOR[pkg]]
    assert upward == []


def test_no_private_names_across_packages():
    private = []
    for pkg, p, line, module, names in _edges():
        if module.split(".")[0] == pkg:
            continue
        parts = module.split(".")[1:] + names
        private += [f"{p}:{line} imports {module}.{n}" for n in parts if n.startswith("_") and not n.startswith("__")]
    assert private == []


@pytest.mark.parametrize("package", sorted(FLOOR))
def test_every_package_is_a_package(package):
    assert (ROOT / package / "__init__.py").is_file()
