"""``python -m gmmderive.symbolic [--chapter N] [--json]``: every step checked twice.

Each line gives the kernel's verdict (proven, by definition, ...) beside the independent
numeric checker's (the sizes where it agrees, or where it disagrees). ``--json`` prints
each proof's audit instead (``gmmderive verify --json`` prints the same).
"""

from __future__ import annotations

import argparse
import json
import sys

from . import audit, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gmmderive.symbolic", description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", type=int, default=None, help="only this chapter's steps")
    parser.add_argument("--json", action="store_true", help="each proof's audit, as JSON")
    parser.add_argument("--jobs", type=int, default=2, help="processes that check steps (default 2)")
    args = parser.parse_args(argv)
    try:
        audits = audit(args.chapter, jobs=args.jobs)
    except ValueError as exc:
        print(f"python -m gmmderive.symbolic: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(audits, ensure_ascii=False, indent=1))
    else:
        print("\n".join(report(audits)))
    return 1 if any(not a["passed"] for a in audits) else 0


if __name__ == "__main__":
    sys.exit(main())
