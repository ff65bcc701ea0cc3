"""Every figure of the book has a description (its alt text) written in its cell.

myst-nb reads a cell's ``mystnb: image: alt`` metadata into the ``alt`` of the cell's image
outputs; without it the HTML book's alt is the image's hashed file name. The animation of
chapter 13 (an HTML output) gets the same metadata; book/_ext/book_fixes.py puts it on the
animation's image. No browser needed: the notebooks are read as JSON.
"""

import json
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[2] / "book"


def _figure_cells():
    for nb in sorted(BOOK.glob("*.ipynb")):
        for index, cell in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] != "code":
                continue
            kinds = {k for out in cell.get("outputs", []) for k in out.get("data", {})}
            html = "".join("".join(out.get("data", {}).get("text/html", "")) for out in cell.get("outputs", []))
            if "image/png" in kinds or "_anim_img" in html:
                yield nb.name, index, cell


FIGURES = list(_figure_cells())


def test_the_book_has_figures():
    assert len(FIGURES) >= 25


@pytest.mark.parametrize("name,index,cell", FIGURES, ids=[f"{n}:{i}" for n, i, _ in FIGURES])
def test_every_figure_is_described_in_its_cell(name, index, cell):
    alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
    assert alt, f"{name}, cell {index}: a figure without alt text (cell metadata mystnb.image.alt)"
    # a description of what the reader sees, not a label: long enough to say it
    assert len(alt.split()) >= 15, f"{name}, cell {index}: the alt text says too little: {alt!r}"
    assert not alt.lower().startswith(("figure", "image", "plot of the output")), alt
