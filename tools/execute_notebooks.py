"""Execute the book's notebooks in place, storing their outputs for nbval.

Notebooks are committed executed: nbval (strict) compares every stored
output with a fresh run. After editing a chapter, run ``make notebooks``
(or this script with notebook paths) and commit the result.

Every notebook first gets (or keeps up to date) its install cell: on Colab, or any
Python without gmmderive, it installs the version the outputs were made with (the tag
``v<version>`` of pyproject.toml's version, from the repository named in ``_config.yml``),
and raises, with what to do, when that fails; the HTML book hides it (tag ``remove-cell``).

After running, every Markdown cell gets the results of its inline expressions
(``{eval}`name```, the numbers of the prose) in its metadata, as jupyterlab-myst stores them
(``user_expressions``): JupyterLab shows the numbers on opening, before anything runs. They are
the notebook's glue records (``gmmderive.book.glue``), the same text the HTML book shows.

``--refresh`` does both without running the notebooks (after editing prose only). Last, the
chapters' Colab copies in colab/ are made again (tools/colab_notebooks.py).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

# the notebook's glue records (name -> the text shown), read as the Colab copies read them
from colab_notebooks import glue_records
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TAG = "install-gmmderive"
EVAL = re.compile(r"\{eval\}`([^`]*)`")


def release_ref(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The git tag of the version the outputs are made with: ``v`` + pyproject.toml's version."""
    return "v" + tomllib.loads(pyproject.read_text())["project"]["version"]


def install_cell_source(config: Path = ROOT / "_config.yml", pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The first cell of every notebook: the repository of ``_config.yml`` at the release tag."""
    url = yaml.safe_load(config.read_text())["repository"]["url"].rstrip("/")
    return (
        "# Colab, or a Python without gmmderive: install the version these outputs\n"
        "# were made with, or stop here with what to do.\n"
        "try:\n"
        "    import gmmderive, myst_nb  # noqa: F401\n"
        "except ImportError:\n"
        "    import subprocess, sys\n"
        f'    url = "{url}"\n'
        f'    spec = f"gmmderive[notebooks] @ git+{{url}}@{release_ref(pyproject)}"\n'
        '    pip = [sys.executable, "-m", "pip", "install", "--quiet", spec]\n'
        "    if subprocess.call(pip):\n"
        "        raise RuntimeError(\n"
        '            f"could not install {spec} (pip says why, above): connect "\n'
        '            "to the internet, or pip install gmmderive yourself, then "\n'
        '            "run this cell again") from None'
    )


def store_expression_results(nb, path: Path = Path("notebook")) -> None:
    """Each Markdown cell's ``{eval}`` results in its metadata, as jupyterlab-myst keeps them."""
    records = glue_records(nb)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        names = list(dict.fromkeys(EVAL.findall(cell.source)))
        if not names:
            cell.metadata.pop("user_expressions", None)
            continue
        missing = [n for n in names if n not in records]
        if missing:
            raise SystemExit(f"{path.name}: {{eval}} of {missing}, never glued")
        cell.metadata["user_expressions"] = [
            {"expression": n, "result": {"status": "ok", "data": {"text/plain": repr(records[n])}, "metadata": {}}}
            for n in names
        ]


def ensure_install_cell(nb) -> None:
    """Put the install cell first (replacing an older one)."""
    cell = nbformat.v4.new_code_cell(install_cell_source())
    cell.metadata["tags"] = ["remove-cell", INSTALL_TAG]
    cell.pop("id", None)
    if nb.cells and INSTALL_TAG in nb.cells[0].metadata.get("tags", []):
        cell["id"] = nb.cells[0].get("id")
        nb.cells[0] = cell
    else:
        nb.cells.insert(0, cell)
    if cell.get("id") is None:
        cell["id"] = "install-gmmderive"


def execute(path: Path, run: bool = True) -> None:
    nb = nbformat.read(path, as_version=4)
    ensure_install_cell(nb)
    if run:
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    for cell in nb.cells:  # keep diffs small: no timing metadata
        cell.metadata.pop("execution", None)
    store_expression_results(nb, path)
    nbformat.write(nb, path)
    print(f"{'executed' if run else 'refreshed'} {path}")


def main(argv: list[str]) -> None:
    run = "--refresh" not in argv
    argv = [a for a in argv if a != "--refresh"]
    paths = [Path(p).resolve() for p in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    for p in paths:
        execute(p, run)
    # the Colab copies (colab/) follow the chapters they are made from
    sys.path.insert(0, str(ROOT / "tools"))
    import colab_notebooks

    chapters = [str(p) for p in paths if p.parent == ROOT / "book" and p.name[:2].isdigit()]
    if chapters:
        colab_notebooks.main(chapters)


if __name__ == "__main__":
    main(sys.argv[1:])
