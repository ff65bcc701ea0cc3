"""Command line: ``python -m gmmderive verify`` proves every step of the derivation."""

from __future__ import annotations

import argparse
import json
import sys


def _verify(args) -> int:
    from . import symbolic

    try:
        proofs = symbolic.verify(args.chapter)
    except ValueError as exc:
        print(f"gmmderive verify: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([
            {"id": p.step.id, "chapter": p.step.chapter, "name": p.step.name, "kind": p.kind,
             "passed": p.passed, "seconds": round(p.seconds, 4)}
            for p in proofs
        ], ensure_ascii=False, indent=1))
    else:
        for p in proofs:
            status = "ok" if p.passed else "FAILED"
            print(f"{p.step.id:<5} ch{p.step.chapter:<3} {p.step.name:<66} {p.kind:<8} {p.seconds:6.2f} s  {status}")
            if not p.passed:
                print(f"      {p.message}")
    failed = sum(not p.passed for p in proofs)
    if not args.json:
        print(f"{len(proofs) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gmmderive",
        description="EM for the univariate Gaussian mixture, derived and checked.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{verify}")
    v = sub.add_parser("verify", help="prove every step of the derivation with SymPy")
    v.add_argument("--json", action="store_true", help="print a JSON list instead of one line per step")
    v.add_argument("--chapter", type=int, default=None, help="only the steps of this chapter (1-14)")
    v.set_defaults(func=_verify)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
