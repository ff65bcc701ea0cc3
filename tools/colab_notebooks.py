"""The chapters for Colab and plain Jupyter: MyST lowered to Markdown + LaTeX (colab/).

Colab and a plain Jupyter render Markdown with LaTeX, and nothing of MyST: a role such as
``{eq}`` or ``{eval}`` and a directive such as ``{prf:theorem}`` show as raw text. This
script writes a copy of every chapter (book/NN_*.ipynb -> colab/NN_*.ipynb) whose Markdown
cells say the same in plain Markdown, from the same source:

* ``{eval}`name``` -> the number (the notebook's glue record, the text the book shows);
* a labelled display ``$$ ... $$ (label)`` and ``{math}`` -> ``\\tag{c.k}``, numbered as the
  book numbers them; ``{eq}`label``` -> ``(c.k)``, across chapters too;
* ``{prf:theorem} Title`` / ``{prf:proposition}`` / ``{prf:proof}`` -> a bold heading
  ("**Theorem (Title).**"), the proof ending with ∎; ``{exercise}`` -> "**Exercise c.k**";
  a solution -> "**Solution.**"; ``{prf:ref}`` -> the theorem's title;
* ``{cite}`key``` -> "(Author, year)", ``{cite:t}`` -> "Author (year)", from references.bib;
  ``{ref}`label``` -> a link to that section of the published book (``html.baseurl``).

The code cells and their outputs are the book's, unchanged (the install cell first; the
bookkeeping cells folded, ``cellView: form``). The HTML book's Colab button opens these
(``book/_ext/book_fixes.py``). ``tests/test_colab.py`` checks that no MyST is left.

Run after executing the chapters: ``python tools/colab_notebooks.py``.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
OUT = ROOT / "colab"

FENCE = re.compile(r"^(?P<fence>```+|:::+)\{(?P<name>[a-z:-]+)\}(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                   re.M | re.S)
DISPLAY = re.compile(r"\$\$(?P<tex>.*?)\$\$[ \t]*\((?P<label>[^)\s]+)\)", re.S)
HEADER = re.compile(r"^(?:```+|:::+)\{(?P<name>[a-z:-]+)\}(?P<arg>[^\n]*)\n(?P<opts>(?::[a-z-]+:[^\n]*\n)*)", re.M)
ROLE = re.compile(r"\{(?P<role>[a-z:-]+)\}`(?P<text>[^`]*)`")


def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _options(body: str) -> tuple[dict, str]:
    opts, lines = {}, body.split("\n")
    while lines and re.match(r"^:[a-z-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        opts[key] = value.strip()
    return opts, "\n".join(lines).strip("\n")


def _chapter(path: Path) -> int:
    return int(path.name[:2])


def book_labels(paths: list[Path]) -> tuple[dict, dict]:
    """Equation label -> "(c.k)" and theorem label -> its title, over the whole book."""
    equations, titles = {}, {}
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        k = 0
        for src in _markdown(nb):
            # displays and {math} blocks in the order of the text
            found = [(m.start(), m.group("label")) for m in DISPLAY.finditer(src)]
            for m in HEADER.finditer(src):  # nested ones too
                opts, _ = _options(m.group("opts"))
                if m.group("name") == "math" and "label" in opts:
                    found.append((m.start(), opts["label"]))
                if m.group("name").startswith("prf:") and "label" in opts:
                    titles[opts["label"]] = m.group("arg").strip()
            for _, label in sorted(found):
                k += 1
                equations[label] = f"({_chapter(path)}.{k})"
    return equations, titles


def bibliography(bib: Path = BOOK / "references.bib") -> dict[str, tuple[str, str]]:
    """Key -> (authors as cited, year)."""
    found = {}
    for entry in re.split(r"\n(?=@)", bib.read_text()):
        key = re.match(r"@\w+\{([^,]+),", entry.strip())
        author = re.search(r"author\s*=\s*\{(.*?)\},?\n", entry, re.S)
        year = re.search(r"year\s*=\s*\{?(\d{4})", entry)
        if not (key and author and year):
            continue
        names = [a.split(",")[0].strip() for a in re.split(r"\s+and\s+", author.group(1))]
        cited = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else names[0] + " et al."
        found[key.group(1)] = (cited, year.group(1))
    return found


def glue_records(nb) -> dict[str, str]:
    """The notebook's glue records (``gmmderive.book.glue``): name -> the text shown."""
    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta:
                found[meta["name"]] = ast.literal_eval(out["data"]["application/papermill.record/text/plain"])
    return found


class Lowering:
    def __init__(self, paths):
        self.equations, self.titles = book_labels(paths)
        self.bib = bibliography()
        self.sections = {m.group(1): (md.stem, m.group(2).strip())
                         for md in BOOK.glob("*.md")
                         for m in re.finditer(r"^\(([^)\s]+)\)=\s*\n#+ (.*)$", md.read_text(), re.M)}
        self.baseurl = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["baseurl"].rstrip("/")

    def notebook(self, path: Path):
        nb = nbformat.read(path, as_version=4)
        self.chapter, self.records, self.exercise = _chapter(path), glue_records(nb), 0
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = self.markdown(cell.source)
                cell.metadata.pop("user_expressions", None)
        return nb

    def markdown(self, src: str) -> str:
        src = FENCE.sub(self._directive, src)
        src = DISPLAY.sub(lambda m: f"$${m.group('tex').rstrip()}\n\\tag{{{self._number(m.group('label'))}}}\n$$", src)
        src = re.sub(r"^\(([^)\s]+)\)=[ \t]*\n", "", src, flags=re.M)  # a section label
        return ROLE.sub(self._role, src)

    def _number(self, label: str) -> str:
        return self.equations[label].strip("()")

    def _directive(self, m) -> str:
        name, arg = m.group("name"), m.group("arg").strip()
        opts, body = _options(m.group("body"))
        body = self.markdown(body) if body else body
        if name == "math":
            tag = f"\n\\tag{{{self._number(opts['label'])}}}" if "label" in opts else ""
            return f"$$\n{body}{tag}\n$$"
        if name in ("prf:theorem", "prf:proposition", "prf:lemma", "prf:definition"):
            kind = name.split(":")[1].capitalize()
            return f"> **{kind}{f' ({arg})' if arg else ''}.** " + body.replace("\n", "\n> ")
        if name == "prf:proof":
            return f"*Proof.* {body} ∎"
        if name == "exercise":
            self.exercise += 1
            return f"**Exercise {self.chapter}.{self.exercise}.** {body}"
        if name == "solution-start":
            return "**Solution.**"
        if name == "solution-end":
            return ""
        raise SystemExit(f"chapter {self.chapter}: no plain Markdown for the directive {{{name}}}")

    def _role(self, m) -> str:
        role, text = m.group("role"), m.group("text")
        target = re.sub(r"^.*<(.*)>$", r"\1", text)
        if role == "eval":
            return self.records[text]
        if role == "eq":
            return self.equations[target]
        if role == "prf:ref":
            return self.titles.get(target, target)
        if role in ("cite", "cite:p", "cite:t"):
            works = [self.bib[k.strip()] for k in text.split(",")]
            if role == "cite:t":
                return "; ".join(f"{a} ({y})" for a, y in works)
            return "(" + "; ".join(f"{a}, {y}" for a, y in works) + ")"
        if role == "ref":
            page, title = self.sections[target]
            title = text.split("<")[0].strip() if "<" in text else title
            return f"[{title}]({self.baseurl}/book/{page}.html#{target})"
        raise SystemExit(f"chapter {self.chapter}: no plain Markdown for the role {{{role}}}")


def main(argv: list[str]) -> None:
    paths = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
    lowering = Lowering(paths)
    OUT.mkdir(exist_ok=True)
    for path in paths if not argv else [Path(a).resolve() for a in argv]:
        nb = lowering.notebook(path)
        text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (OUT / path.name).write_text(text)
        print(f"wrote {(OUT / path.name).relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
