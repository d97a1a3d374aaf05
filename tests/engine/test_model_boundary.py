"""The engine knows a network only through its descriptor: of `deblur_cli.model` it imports the descriptor
module and nothing else, at any depth of any engine module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import deblur_cli.engine

ENGINE = Path(deblur_cli.engine.__file__).parent
ALLOWED = "deblur_cli.model.descriptor"


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, names imported from a package included."""
    package = "deblur_cli.engine"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _model_imports(path: Path) -> list[tuple[int, str]]:
    return [(line, module) for line, module in _imported_modules(path)
            if module == "deblur_cli.model" or module.startswith("deblur_cli.model.")]


@pytest.mark.parametrize("path", sorted(ENGINE.glob("*.py")), ids=lambda p: p.name)
def test_engine_modules_import_only_the_descriptor_from_the_model(path: Path) -> None:
    wrong = [f"{path.name}:{line}: {module}" for line, module in _model_imports(path)
             if module != ALLOWED and not module.startswith(f"{ALLOWED}.")]
    assert not wrong, "the engine reaches into the model past its descriptor:\n" + "\n".join(wrong)


def test_the_check_sees_relative_absolute_and_nested_imports(tmp_path: Path) -> None:
    source = tmp_path / "probe.py"
    source.write_text("from ..model import SAPHNet\nimport deblur_cli.model.saphnet\n"
                      "def f():\n    from .. import model\n    from ..model.descriptor import Budget\n")
    assert _model_imports(source) == [
        (1, "deblur_cli.model"), (1, "deblur_cli.model.SAPHNet"), (2, "deblur_cli.model.saphnet"),
        (4, "deblur_cli.model"),
        (5, "deblur_cli.model.descriptor"), (5, "deblur_cli.model.descriptor.Budget"),
    ]
