"""Imports run one way (STYLE.md 2), read from the sources with `ast`: the engine knows nothing of weights,
batches or the command line; the command line starts no process pool or cluster (the batch layer does);
and the package reads its own files as package data, never by a path built from `__file__`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import deblur_cli

PACKAGE = Path(deblur_cli.__file__).parent


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, relative imports made absolute; `from m import a` gives m and m.a."""
    parts = ["deblur_cli", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = parts[:-1]  # a module's package; for `__init__`, the package itself
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(f"{root}.") for root in roots)


@pytest.mark.parametrize(("folder", "forbidden"), [
    ("engine", ("deblur_cli.weights", "deblur_cli.cli", "deblur_cli.batch", "deblur_cli.pretrained")),
    ("cli", ("multiprocessing", "concurrent.futures", "ray")),
])
def test_imports_run_one_way(folder: str, forbidden: tuple[str, ...]) -> None:
    found = {f"{path.relative_to(PACKAGE)}: {name}" for path in _modules(folder)
             for name in _imports(path) if _under(name, forbidden)}
    assert not found


def test_the_check_sees_relative_imports() -> None:
    names = set(_imports(PACKAGE / "pretrained.py"))
    assert {"deblur_cli.engine", "deblur_cli.weights", "deblur_cli.weights.load_model"} <= names
    assert "deblur_cli.batch.spread" in set(_imports(PACKAGE / "batch" / "run.py"))


def test_no_module_finds_files_by_its_own_path() -> None:
    uses = [str(path.relative_to(PACKAGE)) for path in _modules(".")
            if any(isinstance(node, ast.Name) and node.id == "__file__"
                   for node in ast.walk(ast.parse(path.read_text())))]
    assert not uses
