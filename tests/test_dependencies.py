"""Every third-party module rayexec imports is a declared dependency of the package.

A plain ``pip install rayexec`` (no extras) must give a working library: an import
of an undeclared package works in the test environment (where the test extras
bring it) and breaks for users.  The source is scanned -- imports inside
functions included -- and each third-party module is looked up in the installed
distributions.  A module may stay undeclared only if every import of it sits in
``try: ... except ImportError`` whose handler raises an error telling the user
what to install.
"""

import ast
import importlib.metadata
import os
import re
import sys

import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    return {_normalized(re.match(r"[A-Za-z0-9_.-]+", dep).group())
            for dep in project["dependencies"]}


def _sources():
    # rayexec itself, and the shim that ships inside it (compat/ -> rayexec/_shim)
    for top, own in (("rayexec", {"rayexec"}), ("compat", {"rayexec", "distributed"})):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(folder, name), own


def _imported(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0:
        return [node.module]
    if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
            and node.args and isinstance(node.args[0], ast.Constant)
            and not str(node.args[0].value).startswith(".")):
        return [node.args[0].value]
    return []


def _guarded(parents: list) -> bool:
    """Inside ``try`` whose ImportError handler raises (a message saying what to install)."""
    for parent, child in zip(parents, parents[1:]):
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                caught = ast.unparse(handler.type) if handler.type else ""
                if ("ImportError" in caught or "ModuleNotFoundError" in caught) and any(
                        isinstance(n, ast.Raise) for n in ast.walk(handler)):
                    return True
    return False


def third_party_imports() -> dict[str, list[tuple[str, bool]]]:
    """module -> [(file:line, guarded)] for every import outside the stdlib and rayexec."""
    found: dict[str, list[tuple[str, bool]]] = {}

    def visit(node, parents, path, own):
        for name in _imported(node):
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top not in own:
                where = f"{os.path.relpath(path, ROOT)}:{node.lineno}"
                found.setdefault(top, []).append((where, _guarded(parents + [node])))
        for child in ast.iter_child_nodes(node):
            visit(child, parents + [node], path, own)

    for path, own in _sources():
        with open(path) as f:
            visit(ast.parse(f.read(), path), [], path, own)
    return found


def test_the_scan_sees_imports_inside_functions_and_import_module():
    imports = third_party_imports()
    assert {"ray", "dask", "tornado"} <= set(imports)
    assert any("asynchronous.py" in where for where, _ in imports["tornado"])


def test_every_third_party_import_is_a_declared_dependency():
    distributions = importlib.metadata.packages_distributions()
    wanted = declared()
    undeclared = {}
    for module, places in third_party_imports().items():
        providers = {_normalized(d) for d in distributions.get(module, [module])}
        if providers & wanted:
            continue
        unguarded = [where for where, guarded in places if not guarded]
        if unguarded:
            undeclared[module] = unguarded
    assert not undeclared, (
        "imported but not in pyproject.toml's [project] dependencies (a plain "
        f"`pip install rayexec` lacks them): {undeclared}")
