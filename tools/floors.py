"""The lowest versions that pyproject.toml declares, as exact requirements (make test-floors).

Prints ``name==floor`` for every runtime dependency with a ``>=`` floor, and for those of the
extras named on the command line (``fast`` for numba and llvmlite, ``plot`` for matplotlib,
``dask`` for Dask),
so that the floors tested are the floors declared, not a copy kept by hand.
"""

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def floors(extras=()):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    out = {}
    for spec in specs:
        req = Requirement(spec)
        lowest = [s.version for s in req.specifier if s.operator == ">="]
        if not lowest:
            raise SystemExit(f"pyproject.toml: {spec!r} declares no floor (>=)")
        out[req.name] = f"{req.name}=={lowest[0]}"
    return list(out.values())


if __name__ == "__main__":
    print("\n".join(floors(sys.argv[1:])))
