"""The package layout is the architecture: lower layers never import the ones above them."""
import ast
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"
# package -> packages (under webapp) it must never import
FORBIDDEN = {
    "services": {"jobs", "web", "admin", "api", "webhooks", "auth", "ui", "http", "serve", "__init__"},
    "models": {"services", "jobs", "web", "admin", "api", "webhooks", "auth", "ui", "http", "serve", "__init__"},
    "db": {"services", "models", "jobs", "web", "admin", "api", "webhooks", "ui", "http", "serve", "__init__"},
    "ui": {"jobs", "web", "admin", "api", "webhooks", "serve", "__init__"},
}


def imported_packages(path: Path) -> set[str]:
    """The first webapp-level name each import of `path` reaches ('__init__' for the factory module)."""
    module = path.relative_to(WEBAPP.parent).with_suffix("").parts
    package = module[:-1] if module[-1] != "__init__" else module[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = (*base, *(node.module.split(".") if node.module else ()))
            else:
                target = tuple((node.module or "").split("."))
            if target[:1] != ("webapp",):
                continue
            if len(target) == 1:  # from webapp import x / from .. import x
                found |= {alias.name if (WEBAPP / alias.name).exists() or (WEBAPP / f"{alias.name}.py").exists()
                          else "__init__" for alias in node.names}
            else:
                found.add(target[1])
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("webapp.")}
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(layer):
    offences = {
        str(path.relative_to(WEBAPP)): sorted(imported_packages(path) & FORBIDDEN[layer])
        for path in (WEBAPP / layer).rglob("*.py")
    }
    assert {name: bad for name, bad in offences.items() if bad} == {}


def test_the_checker_sees_a_forbidden_import(tmp_path, monkeypatch):
    """The walk above must be able to fail: an import of the job layer from a service is found."""
    services = WEBAPP / "services"
    probe = services / "_layer_probe.py"
    probe.write_text("from ..jobs import enqueue\nfrom .. import create_app\n")
    try:
        assert imported_packages(probe) == {"jobs", "__init__"}
    finally:
        probe.unlink()


def test_nothing_but_the_factory_config_extensions_and_cli_sits_loose_at_the_package_root():
    loose = sorted(path.name for path in WEBAPP.glob("*.py"))
    assert loose == ["__init__.py", "cli.py", "config.py", "extensions.py"]
