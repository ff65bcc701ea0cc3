"""Execute the book's notebooks in place, storing their outputs for nbval.

Notebooks are committed executed: nbval (strict) compares every stored
output with a fresh run. After editing a chapter, run ``make notebooks``
(or this script with notebook paths) and commit the result.

Every notebook first gets (or keeps up to date) its install cell: on Colab, or any
Python without gmmderive, it installs the package from the repository named in
``_config.yml``; the HTML book hides it (tag ``remove-cell``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TAG = "install-gmmderive"


def install_cell_source(config: Path = ROOT / "_config.yml") -> str:
    """The first cell of every notebook, built from the repository block of ``_config.yml``."""
    repo = yaml.safe_load(config.read_text())["repository"]
    url, branch = repo["url"].rstrip("/"), repo.get("branch", "main")
    return (
        "# Colab, or a Python without gmmderive: install it from the repository first.\n"
        "try:\n"
        "    import gmmderive, myst_nb  # noqa: F401\n"
        "except ImportError:\n"
        f'    %pip install --quiet "gmmderive[notebooks] @ git+{url}@{branch}"'
    )


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


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    ensure_install_cell(nb)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:  # keep diffs small: no timing metadata
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    print(f"executed {path.relative_to(ROOT)}")


def main(argv: list[str]) -> None:
    paths = [Path(p).resolve() for p in argv] or sorted((ROOT / "book").glob("*.ipynb"))
    for p in paths:
        execute(p)


if __name__ == "__main__":
    main(sys.argv[1:])
