"""The layer rule of DESIGN.md ("Architecture"), checked on every import statement of the package,
top-level or inside a function: `web → interop → services → models, proficiency`; `proficiency` imports
nothing of the project; nothing imports the demo school but the CLI and tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gradebook"


def _imports(path: Path, package_root: Path = PACKAGE) -> list[str]:
    """Every module `path` imports, relative imports resolved to absolute names."""
    module = ".".join(path.relative_to(package_root.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    if path.name == "__init__.py":
        package = module.removesuffix(".__init__")
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.append(target)
            names.extend(f"{target}.{alias.name}" for alias in node.names)
    return names


def _modules(folder: str) -> list[Path]:
    root = PACKAGE / folder if folder else PACKAGE
    return sorted(root.rglob("*.py")) if folder else sorted(PACKAGE.rglob("*.py"))


def _violations(folder: str, forbidden: tuple[str, ...], allowed_inside: str | None = None) -> list[str]:
    found = []
    for path in _modules(folder):
        for name in _imports(path):
            if allowed_inside and not (name == allowed_inside or name.startswith(allowed_inside + ".")) \
                    and (name == "gradebook" or name.startswith("gradebook.")):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
            for bad in forbidden:
                if name == bad or name.startswith(bad + "."):
                    found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


def test_proficiency_imports_nothing_of_the_project() -> None:
    assert _violations("proficiency", (), allowed_inside="gradebook.proficiency") == []


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("models", ("gradebook.services", "gradebook.interop", "gradebook.web", "gradebook.authz", "gradebook.demo")),
    ("services", ("gradebook.interop", "gradebook.web", "gradebook.demo")),
    ("interop", ("gradebook.web", "gradebook.demo")),
])
def test_arrows_point_down(folder: str, forbidden: tuple[str, ...]) -> None:
    assert _violations(folder, forbidden) == []


def test_only_the_cli_imports_the_demo_school() -> None:
    importers = {
        str(path.relative_to(PACKAGE.parent))
        for path in _modules("")
        if path.name != "demo.py" and any(n == "gradebook.demo" or n.startswith("gradebook.demo.")
                                          for n in _imports(path))
    }
    assert importers <= {"gradebook/cli.py"}


def test_the_checker_resolves_a_relative_import_out_of_a_layer(tmp_path: Path) -> None:
    """The rules above cannot pass vacuously: an import hidden in a function, relative, is seen."""
    module = tmp_path / "gradebook" / "proficiency" / "sneaky.py"
    module.parent.mkdir(parents=True)
    module.write_text("def f():\n    from ..services import ServiceError\n    return ServiceError\n")
    assert "gradebook.services.ServiceError" in _imports(module, tmp_path / "gradebook")
