"""The release workflow's checks (.github/workflows/release.yml), runnable by hand too.

python .github/release.py check vX.Y.Z https://github.com/OWNER/REPO
    The tag, pyproject.toml, CITATION.cff and CHANGELOG.md name one version: the tag is v + the
    version, CITATION.cff's version is the same, CHANGELOG.md has "## [X.Y.Z] - YYYY-MM-DD" and the
    link "[X.Y.Z]: REPO/releases/tag/vX.Y.Z". Exit status 1 with every mismatch named.
python .github/release.py notes vX.Y.Z
    Print CHANGELOG.md's section of version X.Y.Z (the release notes; the v is optional).
python .github/release.py pythons
    The Python versions that pyproject.toml's classifiers claim are exactly those that the test
    job of .github/workflows/release.yml runs (its matrix line "python: [...]").
python .github/release.py smoke
    With the installed package, outside the source tree: fit Old Faithful and check the known
    maximum, its certificate and standard errors, and that the package ships its data.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def check(tag: str, repo: str) -> list[str]:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    cff = re.search(r"^version:\s*\"?([^\"\s]+)", (ROOT / "CITATION.cff").read_text(), re.M)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    errors = []
    if tag != f"v{version}":
        errors.append(f"the tag {tag} is not v + pyproject.toml's version {version}")
    if cff is None or cff[1] != version:
        errors.append(f"CITATION.cff's version {cff and cff[1]} is not pyproject.toml's {version}")
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M):
        errors.append(f"CHANGELOG.md has no heading '## [{version}] - YYYY-MM-DD'")
    link = f"[{version}]: {repo.rstrip('/')}/releases/tag/v{version}"
    if link not in changelog.splitlines():
        errors.append(f"CHANGELOG.md lacks the line '{link}'")
    return errors


def notes(version: str) -> str:
    version = version.removeprefix("v")
    lines, on = [], False
    for line in (ROOT / "CHANGELOG.md").read_text().splitlines():
        if line.startswith(f"## [{version}]"):
            on = True
        elif on and (line.startswith("## [") or re.match(r"\[[^]]+\]: ", line)):
            break
        elif on:
            lines.append(line)
    if not on:
        raise SystemExit(f"CHANGELOG.md has no section [{version}]")
    return "\n".join(lines).strip() + "\n"


def pythons() -> list[str]:
    classifiers = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["classifiers"]
    claimed = sorted(m[1] for c in classifiers if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c)))
    workflow = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    line = re.search(r"^\s*python: \[(.*)\]\s*$", workflow, re.M)
    tested = sorted(re.findall(r'"(3\.\d+)"', line[1])) if line else []
    if claimed != tested:
        return [f"pyproject.toml's classifiers claim Python {claimed}, release.yml's test job runs {tested}"]
    return []


def smoke() -> None:
    import gmmderive as gd
    from gmmderive.datasets import galaxies, old_faithful

    where = Path(gd.__file__).resolve()
    assert ROOT not in where.parents, f"gmmderive imported from the source tree: {where}"
    r = gd.fit(old_faithful()["waiting"], 2)
    assert r.converged and abs(r.log_likelihood + 1034.00175) < 1e-4, r
    assert r.max_eigenvalue < 0 and (r.standard_errors.means > 0).all(), r
    assert galaxies().shape == (82,)
    print(f"gmmderive {gd.__version__} from {where.parent}: Old Faithful {r.log_likelihood:.5f}, converged")


def main(argv: list[str]) -> None:
    match argv:
        case ["check", tag, repo]:
            errors = check(tag, repo)
            sys.exit("\n".join(errors) if errors else None)
        case ["notes", version]:
            print(notes(version), end="")
        case ["pythons"]:
            errors = pythons()
            sys.exit("\n".join(errors) if errors else None)
        case ["smoke"]:
            smoke()
        case _:
            sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
