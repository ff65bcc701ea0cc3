"""The Binder files and the project's pins agree."""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins():
    out = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt must pin exactly: {line!r}"
            out[canonicalize_name(name)] = version
    return out


def requirement_name(spec: str) -> str:
    return canonicalize_name(Requirement(spec).name)


BINDER_EXTRA = "notebooks"  # what requirements.txt installs of this package: what the chapters import
MYST_IN_JUPYTERLAB = ("jupyterlab", "jupyterlab-myst")  # the book's MyST rendered in JupyterLab


def requirements_lines() -> list[str]:
    return [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]


def test_requirements_use_the_pins_and_install_the_package():
    # Binder: the package with the notebooks' extra (not the book's toolchain) and JupyterLab
    # with jupyterlab-myst, all at the pins; nothing else.
    lines = requirements_lines()
    assert "-c constraints.txt" in lines
    assert f".[{BINDER_EXTRA}]" in lines
    assert sorted(ln for ln in lines if not ln.startswith(("-c", "."))) == sorted(MYST_IN_JUPYTERLAB), lines
    assert len(lines) == 2 + len(MYST_IN_JUPYTERLAB), lines


def test_everything_binder_installs_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    needed = project["dependencies"] + extras[BINDER_EXTRA] + list(MYST_IN_JUPYTERLAB)
    pinned = pins()
    missing = [spec for spec in needed if requirement_name(spec) not in pinned]
    assert not missing, f"not pinned in constraints.txt: {missing}"


def test_the_binder_extra_leaves_the_book_toolchain_out():
    # Readers run notebooks; the HTML book is built elsewhere (make book, the Pages workflow).
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    binder = {requirement_name(s) for s in extras[BINDER_EXTRA]}
    toolchain = {requirement_name(s) for s in extras["book"]} - {"gmmderive"} - binder
    assert "jupyter-book" in toolchain
    assert not binder & toolchain
    assert "jupyter-book" not in _closure(BINDER_EXTRA)


def test_every_dependency_of_the_book_is_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    needed = project["dependencies"] + extras["book"]
    for spec in list(needed):  # the book extra includes others of this project: gmmderive[notebooks]
        if requirement_name(spec) == "gmmderive":
            needed.remove(spec)
            needed += [s for e in sorted(Requirement(spec).extras) for s in extras[e]]
    pinned = pins()
    missing = [spec for spec in needed if requirement_name(spec) not in pinned]
    assert not missing, f"not pinned in constraints.txt: {missing}"


def test_pins_are_what_the_test_environment_runs():
    wrong = []
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # an optional package of another platform
        if installed != version:
            wrong.append(f"{name}: pinned {version}, installed {installed}")
    assert not wrong, wrong


def test_runtime_matches_the_python_of_the_pins():
    runtime = (ROOT / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.\d+", runtime)
    if sys.version_info[:2] != tuple(int(v) for v in runtime.removeprefix("python-").split(".")):
        pytest.skip(f"tests run on Python {sys.version_info[0]}.{sys.version_info[1]}, Binder on {runtime}")


def test_launch_buttons_have_one_repository():
    config = (ROOT / "_config.yml").read_text()
    assert config.count("repository:") == 1
    assert re.search(r"binderhub_url: https://mybinder\.org", config)
    assert re.search(r"colab_url: https://colab\.research\.google\.com", config)


def test_a_non_editable_install_ships_every_subpackage():
    # Binder runs `pip install .[notebooks]`, not -e: a subpackage missing from the list would be
    # absent there (gmmderive.symbolic was, until this test).
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gmmderive").rglob("__init__.py")}
    assert found <= listed, f"pyproject.toml [tool.setuptools] packages lacks {sorted(found - listed)}"
    assert all((ROOT / p.replace(".", "/")).is_dir() for p in listed)


def _closure(extra: str) -> set[str]:
    """Distributions that `pip install .[extra]` brings: gmmderive's requirements with the
    extra, and theirs, recursively (as installed here, at the pins)."""
    seen, todo = set(), [("gmmderive", frozenset({extra}))]
    while todo:
        dist, extras = todo.pop()
        key = (canonicalize_name(dist), extras)
        if key in seen:
            continue
        seen.add(key)
        for spec in metadata.requires(dist) or []:
            req = Requirement(spec)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
                todo.append((req.name, frozenset(req.extras)))
    return {name for name, _ in seen}


def _notebook_imports() -> dict[str, str]:
    """Top-level modules imported by the book's notebooks: module -> first notebook."""
    import ast
    import json

    found = {}
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"])
            # IPython magics (the install cell's %pip) are not Python: a no-op in their place
            lines = [ln[: len(ln) - len(ln.lstrip())] + "pass" if ln.lstrip().startswith(("%", "!")) else ln
                     for ln in src.splitlines()]
            for node in ast.walk(ast.parse("\n".join(lines))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    found.setdefault(name.split(".")[0], nb.name)
    return found


@pytest.mark.parametrize("extra", [BINDER_EXTRA, "book"])
def test_the_extra_installs_every_module_the_notebooks_import(extra):
    # Binder gets the notebooks extra (and JupyterLab), `pip install .[book]` the book's: scipy
    # and scikit-learn were missing from it once, so chapters 14 and 15 failed there while the
    # test environment passed. The notebooks' imports must come from the extra itself.
    closure = _closure(extra)
    owners = metadata.packages_distributions()
    missing = []
    for module, notebook in sorted(_notebook_imports().items()):
        if module in sys.stdlib_module_names or module == "gmmderive":
            continue
        dists = {canonicalize_name(d) for d in owners.get(module, [])}
        if not dists & closure:
            missing.append(f"{module} ({notebook}; from {sorted(dists) or 'no installed distribution'})")
    assert not missing, f"not installed by .[{extra}]: {missing}"


def test_every_notebook_starts_with_the_install_cell_for_the_configured_repository():
    # Colab does not read requirements.txt: the first cell installs the package where it is
    # missing, from the repository of _config.yml, and the HTML book hides it.
    import json

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from execute_notebooks import INSTALL_TAG, install_cell_source
    finally:
        sys.path.pop(0)
    source = install_cell_source()
    # the configured repository
    assert "gmmderive[notebooks] @ git+https://github.com/gmmderive/gmmderive@main" in source
    wrong = []
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        first = json.loads(nb.read_text())["cells"][0]
        tags = first.get("metadata", {}).get("tags", [])
        if "".join(first["source"]) != source or "remove-cell" not in tags or INSTALL_TAG not in tags:
            wrong.append(nb.name)
    assert not wrong, f"without the install cell (run tools/execute_notebooks.py): {wrong}"
