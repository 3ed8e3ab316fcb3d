"""The shared pipeline stays below the apps: none of its modules imports one, even lazily."""

import ast
from pathlib import Path

import chatplatform.documents

APPS = {"conversations", "tracking", "analytics", "tutor"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_module_of_the_pipeline_imports_an_app():
    package = Path(chatplatform.documents.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) >= 6

    offending = {
        f"{path.name}: {name}"
        for path in modules
        for name in imported_modules(path)
        if name.split(".")[0] in APPS
    }

    assert offending == set()
