"""The package as a library: metadata from one place each, declared dependencies, the sdist."""

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import gmmderive

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def names(specs) -> set[str]:
    return {canonicalize_name(Requirement(s).name) for s in specs}


# -- where the project lives -------------------------------------------------------


def test_project_urls_agree_with_the_repository_block_of_config():
    repo = CONFIG["repository"]["url"].rstrip("/")
    owner, name = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", repo).groups()
    pages = f"https://{owner.lower()}.github.io/{name}/"
    urls = PROJECT["urls"]
    assert urls["Source"] == repo
    assert urls["Issues"] == f"{repo}/issues"
    assert urls["Changelog"] == f"{repo}/blob/{CONFIG['repository']['branch']}/CHANGELOG.md"
    assert urls["Homepage"] == urls["Documentation"] == pages
    assert CONFIG["html"]["baseurl"] == pages  # where the Pages workflow publishes the book
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["repository-code"] == repo and cff["url"] == pages


def test_installed_metadata_is_pyproject():
    # make reinstalls .venv when pyproject.toml changes; a stale install fails here.
    meta = metadata.metadata("gmmderive")
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls == PROJECT["urls"]
    assert meta["Requires-Python"] == PROJECT["requires-python"]


# -- one version, one Python ---------------------------------------------------------


def test_the_version_has_one_source():
    version = PROJECT["version"]
    assert gmmderive.__version__ == metadata.version("gmmderive") == version
    assert "version" not in PROJECT.get("dynamic", [])
    hard_coded = [str(p.relative_to(ROOT)) for p in (ROOT / "gmmderive").rglob("*.py")
                  if re.search(r"__version__\s*=\s*['\"]\d+\.\d+", p.read_text())]
    assert not hard_coded, f"a version written apart from pyproject.toml: {hard_coded}"
    assert str(yaml.safe_load((ROOT / "CITATION.cff").read_text())["version"]) == version
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and f"## [{version}]" in changelog


def test_the_console_script_and_the_module_print_the_version(capsys):
    (script,) = [e for e in metadata.entry_points(group="console_scripts") if e.name == "gmmderive"]
    assert script.value == PROJECT["scripts"]["gmmderive"]
    main = script.load()
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"gmmderive {gmmderive.__version__}"


def test_the_python_version_is_declared_everywhere():
    required = PROJECT["requires-python"]
    assert required == ">=3.11"  # the pins of constraints.txt and tomllib in the tests need it
    lowest = required.removeprefix(">=")
    assert sys.version_info[:2] >= tuple(map(int, lowest.split(".")))
    runtime = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    assert runtime in SpecifierSet(required)
    assert f"Programming Language :: Python :: {runtime}" in PROJECT["classifiers"]
    listed = [c.rsplit(" ", 1)[1] for c in PROJECT["classifiers"] if re.fullmatch(r".*Python :: 3\.\d+", c)]
    assert all(v in SpecifierSet(required) for v in listed)
    makefile = (ROOT / "Makefile").read_text()
    assert f"sys.exit(0 if v >= ({lowest.replace('.', ', ')}) else" in makefile
    assert f"gmmderive needs Python >= {lowest}" in makefile
    for doc in ("README.md", "CONTRIBUTING.md"):
        text = (ROOT / doc).read_text()
        assert f"{lowest} or newer" in text, doc
        assert not re.search(r"3\.(?:[0-9]|10) or newer", text), doc


# -- license, typing, lint -------------------------------------------------------------


def test_license_file_ships_and_agrees():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "The gmmderive authors" in text
    assert [a["name"] for a in PROJECT["authors"]] == [CONFIG["author"]]


def test_citation_file_is_cff_1_2():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors"} <= set(cff)
    assert cff["license"] == PROJECT["license"]
    assert all("name" in a or "family-names" in a for a in cff["authors"])


def test_py_typed_is_package_data():
    assert (ROOT / "gmmderive" / "py.typed").exists()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["gmmderive"]
    assert "Typing :: Typed" in PROJECT["classifiers"]


def test_ruff_is_one_version_everywhere():
    pins = {canonicalize_name(n): v for n, _, v in
            (ln.split("#")[0].strip().partition("==") for ln in (ROOT / "constraints.txt").read_text().splitlines())
            if n}
    (spec,) = [s for s in PROJECT["optional-dependencies"]["test"] if Requirement(s).name == "ruff"]
    hook = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    (rev,) = [r["rev"] for r in hook if r["repo"].endswith("/ruff-pre-commit")]
    assert spec == f"ruff=={pins['ruff']}" and rev == f"v{pins['ruff']}"
    assert "lint" in re.findall(r"\$\(MAKE\) ([\w-]+)", (ROOT / "Makefile").read_text())


# -- declared dependencies only --------------------------------------------------------


def _guarded(node) -> bool:
    """A ``try`` whose handler catches ImportError: what it imports is optional."""
    if not isinstance(node, ast.Try):
        return False
    caught = {n.id for h in node.handlers for n in ast.walk(h.type or ast.Name("")) if isinstance(n, ast.Name)}
    return bool(caught & {"ImportError", "ModuleNotFoundError"})


def _imports(path: Path):
    """(module, at module level?) for every absolute import of a file; an import guarded by
    ``try ... except ImportError`` counts as not at module level (it is optional)."""
    def visit(node, top):
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) \
                and not _guarded(child)
            if isinstance(child, ast.Import):
                yield from ((a.name.split(".")[0], top) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                yield child.module.split(".")[0], top
            yield from visit(child, inner)
    yield from visit(ast.parse(path.read_text()), True)


def test_the_package_imports_only_what_it_declares():
    extras = {k: names(v) for k, v in PROJECT["optional-dependencies"].items()}
    required = names(PROJECT["dependencies"])
    owners = metadata.packages_distributions()
    wrong = []
    for path in sorted((ROOT / "gmmderive").rglob("*.py")):
        for module, top in _imports(path):
            if module in sys.stdlib_module_names or module in ("gmmderive", "__future__"):
                continue
            dists = {canonicalize_name(d) for d in owners.get(module, [module])}
            where = str(path.relative_to(ROOT))
            if where == "gmmderive/_fused.py":  # loaded only where the extra fast is installed
                allowed = required | extras["fast"]
            elif where == "gmmderive/_dask.py":  # loaded only for a Dask array: the extra dask
                allowed = required | extras["dask"]
            elif top:  # imported with gmmderive: a requirement
                allowed = required
            else:  # inside a function: the extra that brings it (plot), or scikit-learn's own interop
                allowed = required | set().union(*extras.values())
            if not dists & allowed:
                wrong.append(f"{where}: {module} ({'module level' if top else 'in a function'})")
    assert not wrong, f"imported but not declared: {wrong}"


def test_fast_extra_declares_what_the_fused_pass_imports():
    imported = {m for m, _ in _imports(ROOT / "gmmderive" / "_fused.py")}
    assert {"numba", "llvmlite"} <= imported
    fast = names(PROJECT["optional-dependencies"]["fast"])
    assert {"numba", "llvmlite"} <= fast
    for extra in ("notebooks", "test"):  # they install numba too: with its llvmlite floor
        specs = PROJECT["optional-dependencies"][extra]
        assert {"numba", "llvmlite"} <= names(specs), extra


def test_dask_is_imported_only_for_dask_input():
    # _dask imports Dask at module level; nothing imports _dask at module level.
    assert {"dask"} <= {m for m, _ in _imports(ROOT / "gmmderive" / "_dask.py")}
    assert "dask" in names(PROJECT["optional-dependencies"]["dask"])
    for path in sorted((ROOT / "gmmderive").rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module and "_dask" in n.module
               or isinstance(n, ast.ImportFrom) and any(a.name == "_dask" for a in n.names)]
        assert not top, f"{path.relative_to(ROOT)} imports _dask at module level"


# -- the sdist -------------------------------------------------------------------------


def test_the_sdist_leaves_out_the_tests_of_the_repository():
    # The sdist ships tests/test*.py (setuptools' default) and conftest.py; the tests that
    # read the repository's own files (pins, Binder, notebooks, workflow) are excluded.
    manifest = (ROOT / "MANIFEST.in").read_text()
    excluded = set(re.search(r"^exclude (.+)$", manifest, re.M)[1].split())
    repository_tests = {f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")
                        if re.search(r"constraints\.txt|_config\.yml|\.github|Makefile|MANIFEST", p.read_text())}
    assert repository_tests == excluded
    assert "include tests/conftest.py" in manifest and "prune tests/browser" in manifest
