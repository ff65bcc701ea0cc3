"""Execute the book's notebooks in place, storing their outputs for nbval.

Notebooks are committed executed: nbval (strict) compares every stored
output with a fresh run. After editing a chapter, run ``make notebooks``
(or this script with notebook paths) and commit the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
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
