"""The package's shape (docs/ARCHITECTURE.md, "Areas"): no import circles, nothing pointing back
up, pure rules free of Flask and the database, and no area importing another area's views.

Read from the source with ``ast`` (every import, also those inside functions), so a late import
cannot hide a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "wizard"

#: Which parts each part's modules may import (besides its own), views aside (see below).
#: ``wizard`` itself (the composition root, ``create_app``) and ``ops`` wire everything.
BASE = {"rules", "clock", "database", "web"}
MAY_IMPORT: dict[str, set[str]] = {
    "rules": set(),
    "clock": set(),
    "database": set(),
    "web": {"rules", "clock", "database"},
    "carrier": {"rules", "clock", "database"},
    "accounts": BASE,
    "registration": BASE | {"accounts", "carrier"},
    "records": BASE,
    "kiosk": BASE | {"accounts", "registration"},
    "help": BASE,
    "institutions": BASE | {"accounts", "records", "carrier"},
    "config": {"kiosk"},
    "ops": {"*"},
    "": {"*"},
}

#: Modules that must stay pure: no Flask, no SQLAlchemy, nothing of the site outside ``rules``.
PURE = {"wizard.rules.identity", "wizard.rules.passwords", "wizard.rules.captcha",
        "wizard.rules.useragent", "wizard.registration.flow"}  # fmt: skip
IMPURE_LIBRARIES = ("flask", "flask_babel", "flask_wtf", "sqlalchemy", "werkzeug", "wtforms")

#: What other modules may import from the root package (it imports the areas only inside
#: ``create_app``, so these names never start a circle).
ROOT_NAMES = {"ROOT", "csrf", "babel", "create_app"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str) -> list[tuple[str, set[str], int]]:
    """(imported module, names taken from it, line) for every import of the site's code."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                (a.name, set(), node.lineno) for a in node.names if a.name.startswith("wizard")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "wizard" and not node.module.startswith("wizard."):
                continue
            plain = set()
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in MODULES:
                    found.append((sub, set(), node.lineno))
                else:
                    plain.add(alias.name)
            if plain:
                found.append((node.module, plain, node.lineno))
    return found


def _third_party(name: str) -> set[str]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _part(name: str) -> str:
    """``wizard.web.errors`` → ``web``; ``wizard.clock`` → ``clock``; ``wizard`` → ``""``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_view(name: str) -> bool:
    return ".views" in name


def _graph() -> dict[str, set[str]]:
    return {
        name: {target for target, _names, _line in _imports(name) if target != "wizard"}
        for name in MODULES
    }


def test_every_import_names_a_module_of_the_package() -> None:
    missing = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        for target, _names, line in _imports(name)
        if target not in MODULES
    ]
    assert missing == []


def test_no_import_circles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_the_parts_do_not_form_a_circle_either() -> None:
    """Part level: if web imported accounts and accounts web, no module circle need exist."""
    edges = {
        (_part(name), _part(target))
        for name, targets in _graph().items()
        if not _is_view(name)
        for target in targets
        if _part(name) != _part(target)
    }
    back = sorted((a, b) for a, b in edges if (b, a) in edges)
    assert back == []


def _violations(name: str, imports: list[tuple[str, set[str], int]]) -> list[str]:
    part = _part(name)
    allowed = MAY_IMPORT[part]
    wrong = []
    for target, names, line in imports:
        if target == "wizard":
            if names - ROOT_NAMES:
                wrong.append(f"{name}:{line} imports {names - ROOT_NAMES} from the root")
            continue
        target_part = _part(target)
        if _is_view(target) and target_part != part and part != "":
            wrong.append(f"{name}:{line} imports another area's views: {target}")
        elif target_part == part or "*" in allowed or _is_view(name):
            continue  # views may use any area's modules (never its views, above)
        elif target_part not in allowed:
            wrong.append(f"{name}:{line} ({part}) may not import {target} ({target_part})")
    return wrong


def test_nothing_points_back_up() -> None:
    assert [v for name in MODULES for v in _violations(name, _imports(name))] == []


def test_the_contract_sees_real_violations() -> None:
    """Each kind of wrong arrow is caught (a checker that finds nothing would pass too)."""
    assert _violations("wizard.web.templating", [("wizard.accounts.auth", set(), 9)])
    assert _violations("wizard.accounts.auth", [("wizard.registration.flow", set(), 9)])
    assert _violations("wizard.kiosk.views", [("wizard.accounts.views.login", set(), 9)])
    assert _violations("wizard.records.records", [("wizard", {"create_app_helper"}, 9)])
    assert not _violations("wizard.kiosk.views", [("wizard.accounts.auth", set(), 9)])


@pytest.mark.parametrize("name", sorted(PURE))
def test_pure_rules_import_no_framework_and_no_site(name: str) -> None:
    assert name in MODULES
    assert _third_party(name).isdisjoint(IMPURE_LIBRARIES)
    outside = {t for t, _n, _l in _imports(name) if not t.startswith("wizard.rules")}
    assert outside == set()


def test_the_database_module_knows_no_seed_and_no_migrations() -> None:
    targets = {t for t, _n, _l in _imports("wizard.database.db")}
    assert targets <= {"wizard.database.models"}


def test_ops_is_imported_only_by_the_composition_root() -> None:
    users = sorted(
        name
        for name in MODULES
        if _part(name) not in ("ops", "")
        for target, _names, _line in _imports(name)
        if _part(target) == "ops"
    )
    assert users == []


def test_every_part_says_what_it_holds() -> None:
    """A newcomer reads the folder list and each ``__init__``'s docstring."""
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, init
