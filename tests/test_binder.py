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


def _tool(name: str):
    """A module of tools/ (they are scripts, not a package)."""
    import importlib

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


def _tools():
    return _tool("execute_notebooks")


def test_every_notebook_starts_with_the_install_cell_for_the_configured_repository():
    # Colab does not read requirements.txt: the first cell installs the package where it is
    # missing, from the repository of _config.yml at the version the outputs were made with
    # (the tag v<version> of pyproject.toml, not the moving branch), and the HTML book hides it.
    import json

    tools = _tools()
    source = tools.install_cell_source()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert 'url = "https://github.com/gmmderive/gmmderive"' in source
    assert f'spec = f"gmmderive[notebooks] @ git+{{url}}@v{version}"' in source
    assert "@main" not in source and "%pip" not in source
    assert max(len(line) for line in source.splitlines()) <= 77  # JupyterLab's and Colab's width
    wrong = []
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        first = json.loads(nb.read_text())["cells"][0]
        tags = first.get("metadata", {}).get("tags", [])
        if "".join(first["source"]) != source or "remove-cell" not in tags or tools.INSTALL_TAG not in tags:
            wrong.append(nb.name)
    assert not wrong, f"without the install cell (run tools/execute_notebooks.py): {wrong}"


def _run_install_cell(pip_status: int):
    """The install cell as Colab runs it, without gmmderive and with pip returning pip_status."""
    import builtins
    import subprocess
    from unittest import mock

    real_import = builtins.__import__

    def no_gmmderive(name, *args, **kwargs):
        if name.split(".")[0] in ("gmmderive", "myst_nb"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    calls = []
    with mock.patch.object(builtins, "__import__", no_gmmderive), \
            mock.patch.object(subprocess, "call", lambda cmd: calls.append(cmd) or pip_status):
        exec(compile(_tools().install_cell_source(), "install-cell", "exec"), {})
    return calls


def test_the_install_cell_fails_where_it_fails():
    # Offline, pip fails: the cell raises with what to do, instead of leaving pip's error in its
    # output and the notebook failing two cells later on "No module named 'numpy'".
    with pytest.raises(RuntimeError, match=r"could not install gmmderive\[notebooks\] @ git\+.*@v.*connect"):
        _run_install_cell(1)
    (cmd,) = _run_install_cell(0)
    assert cmd[0] == sys.executable and cmd[1:4] == ["-m", "pip", "install"], cmd


def test_binder_renders_outputs_with_jupyterlabs_markdown():
    # SymPy's work is a Markdown output with its math in folds: jupyterlab-myst's renderer for
    # outputs shows that math as raw TeX, JupyterLab's own typesets it (#27). postBuild, which
    # repo2docker runs after requirements.txt, switches jupyterlab-myst's output renderer off
    # (its Markdown cells stay on); the JupyterLab browser test runs the same script.
    post = ROOT / "postBuild"
    lines = [ln for ln in post.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    disable = "jupyter labextension disable --level=user jupyterlab-myst:mime-renderer"
    assert lines == ["set -euo pipefail", disable], lines
    assert post.stat().st_mode & 0o111, "postBuild must be executable"


# --------------------------------------------------------------------------------------
# Colab and plain Jupyter render Markdown + LaTeX only: the Colab button opens colab/, the
# chapters with their MyST lowered (tools/colab_notebooks.py).
# --------------------------------------------------------------------------------------

MYST_LEFT = re.compile(r"\{[a-z][a-z:-]*\}`|^(```+|:::+)\{|^:label:|^\([\w-]+\)=|\$\$\s*\([\w-]+\)", re.M)


def _colab_tool():
    return _tool("colab_notebooks")


def test_the_colab_notebooks_are_the_chapters_of_today():
    import json

    tool = _colab_tool()
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    lowering = tool.Lowering(chapters)
    stale = []
    for path in chapters:
        copy = ROOT / "colab" / path.name
        expected = json.loads(json.dumps(lowering.notebook(path)))
        if not copy.exists() or json.loads(copy.read_text()) != expected:
            stale.append(path.name)
    assert not stale, f"colab/ is not made from today's chapters (run tools/colab_notebooks.py): {stale}"


def test_the_colab_notebooks_have_no_myst_left():
    import json

    left = []
    for copy in sorted((ROOT / "colab").glob("*.ipynb")):
        for cell in json.loads(copy.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                left += [f"{copy.name}: {m.group(0)!r}" for m in MYST_LEFT.finditer("".join(cell["source"]))]
    assert len(list((ROOT / "colab").glob("*.ipynb"))) == len(list((ROOT / "book").glob("[0-9][0-9]_*.ipynb")))
    assert not left, left[:10]


def test_the_colab_lowering_catches_myst():
    # the check above on the book's own chapters: it must find their MyST
    import json

    src = "".join("".join(c["source"]) for c in json.loads((ROOT / "book" / "12_stds.ipynb").read_text())["cells"]
                  if c["cell_type"] == "markdown")
    found = {m.group(0) for m in MYST_LEFT.finditer(src)}
    assert {"{eval}`", "{eq}`", ":label:", "```{"} <= found, found
    tool = _colab_tool()
    lowered = tool.Lowering(sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))).markdown(
        "See {eq}`eq-sigma-update` and {cite}`dempster1977`.\n\n$$ a = b $$ (eq-sigma-update)")
    assert lowered.startswith("See (12.3) and (Dempster et al., 1977).") and "\\tag{12.3}" in lowered, lowered


def test_a_reference_to_another_chapter_is_a_link_with_its_number():
    # jupyterlab-myst sees one notebook: {eq} or {prf:ref} to another chapter's label shows as
    # "not found" there. Such a reference is a Markdown link, [(11.3)](11_means.ipynb#eq-mu-update)
    # (book_fixes makes it {eq} again in the HTML book); its text must be the book's number.
    import json

    tool = _colab_tool()
    chapters = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    numbers, _ = tool.book_labels(chapters)
    wrong, links = [], 0
    for path in chapters:
        cells = json.loads(path.read_text())["cells"]
        src = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        own = set(re.findall(r"\$\$ \((\S+?)\)|:label: (\S+)", src))
        own = {a or b for a, b in own}
        for role, label in re.findall(r"\{(eq|prf:ref|ref|numref)\}`(?:[^`<]*<)?([^`>]+)>?`", src):
            if label not in own:
                wrong.append(f"{path.name}: {{{role}}}`{label}` names another page's label")
        for text, target, label in re.findall(r"\[([^\]]*)\]\((\d\d_\w+\.ipynb)#(eq-[\w-]+)\)", src):
            links += 1
            if numbers.get(label) != text or not (ROOT / "book" / target).exists():
                wrong.append(f"{path.name}: [{text}]({target}#{label}), the book numbers it {numbers.get(label)}")
    assert links >= 20 and not wrong, wrong
