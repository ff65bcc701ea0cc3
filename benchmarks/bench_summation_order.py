"""A fixed summation order for the fused pass: same bits on every x86-64 level, and its cost (#22).

Today's pass (``gmmderive/_fused.py``) sums with ``fastmath={"contract", "reassoc"}`` and
computes the exponential and the log-joint with ``{"contract"}``: the order of the additions
follows the vector code the compiler picks (4 doubles per register here: LLVM prefers 256-bit
vectors on this AVX-512 CPU; 2 with SSE2) and ``a * b + c`` becomes one FMA where the
processor has one. The results differ in the last bits between machines.

The variant built here keeps the algorithm (blocks of 1024, the same exponential, the same
M-step sums about the same centres) and fixes the order of every sum:

- The last, partial block is padded to 1024 samples that add 0 to every sum and 1 to every
  product (a copy of one of its samples, with ρ set to 0, the shift to 0, Σ_c ρ̃ to 1).
- A block is 8 rows of 128 columns (sample j = 128 m + i). Column i gets the 8 terms of its
  rows added as ((t0 + t1) + (t2 + t3)) + ((t4 + t5) + (t6 + t7)); lane l (0..7) gets the 16
  columns l, l + 8, ..., l + 120 added as two such trees and their sum; the block's total
  is the tree of the 8 lanes. The blocks are added in block order.
- The log-likelihood: Σ shift in that order; log Σ_c ρ̃ as the sum (tree of 8) of the logs of
  8 lane products (each a product of 128 factors in [1, D], finite for D < 220), formed in
  the same order with multiplications.
- No fast-math flag at all: no reassociation, no contraction (no FMA, also in the
  exponential's polynomial and the log-joint).
- Its own ``log`` (fdlibm's, no FMA) instead of libm's: for the 8 logs per block, and for log π
  and log σ in the log-joint's constants (today from ``np.log``, whose AVX-512 loop and its
  fallback differ in the last bit for ~0.3% of arguments; glibc's ``log`` itself is an
  FMA build or an SSE2 build chosen by CPU, and they differ for ~4e-5 of arguments).

Why columns, not 8 scalar accumulators per sum: numba switches LLVM's SLP vectorizer off (numba
#8705), so a loop carrying 8 scalar accumulators compiles to scalar code (measured: the sums
3.2x slower than today's); only the loop vectorizer runs, and without reassociation it
vectorizes a loop only across independent results, which the 128 columns are, at any width.

A second variant, ``variant+fma``, is the same with the exponential's range reduction and 11
Horner steps and the log-joint's ``k - z²`` as explicit ``llvm.fma`` calls: a fused
multiply-add is correctly rounded by definition, so it gives the same bits on every target (one instruction with FMA
hardware; on an x86-64 without FMA, a call to libm's ``fma``, exact and slow).

What it prints:

1. Bit identity: each target runs in its own subprocess (its own ``NUMBA_CACHE_DIR``) on the
   same data (saved by this process) and returns its results as hex floats: ``native`` (this
   machine: AVX-512 instructions, 256-bit vectors, FMA), ``512-bit`` (``NUMBA_CPU_NAME=haswell``
   with this CPU's features, as issue 22 tried: 512-bit vectors), ``haswell`` (also
   ``NUMBA_CPU_FEATURES=""``: AVX2 + FMA; NumPy's AVX-512 loops off), ``generic``
   (``NUMBA_CPU_NAME=generic``: SSE2, no FMA) and ``x86-64`` (generic, NumPy at its X86_V2
   baseline, glibc's SSE2 libm via ``GLIBC_TUNABLES``: an old CPU as far as one machine can
   emulate one).
   Also the FMA instructions and 256/512-bit registers in each compiled pass.
2. Agreement of the variants with today's kernel (native), relative; S1 relative to
   sqrt(γ·S2), its natural scale (S1 about the current means can cancel to ~0).
3. Time of one pass (``sufficient_statistics`` and its twins, no responsibilities) at
   N = 1e4, 1e5, 1e6, D = 2, 4 on one thread, and at N = 1e6 on two threads: today's and the
   variants in the native process, today's and the variant in the generic process,
   interleaved (the processes wait on each other: one runs at a time; the order rotates
   every repeat), median of the repeats. No timed assertions.

Run: ``.venv/bin/python benchmarks/bench_summation_order.py [--repeats R]`` (about 1 minute).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

BLOCK = 1024  # as gmmderive._fused.BLOCK (checked in the worker)
COLS = 128  # a block is 8 rows of COLS columns

#: Cases of the bit-identity check: (N, D, threads). N = 100,003 and 1,001 end in a partial block.
CHECK_CASES = [(1_000_000, 2, 1), (1_000_000, 4, 1), (100_003, 3, 1), (1_001, 5, 1), (1_000_000, 4, 2)]
#: Timed configurations: (N, D, threads).
TIME_CASES = [(n, d, 1) for n in (10_000, 100_000, 1_000_000) for d in (2, 4)] + [(1_000_000, 2, 2),
                                                                                     (1_000_000, 4, 2)]
KERNELS = ("today", "variant", "variant+fma")
TIMED = {"native": KERNELS, "generic": ("today", "variant")}

PARAMS = {
    2: ([0.45, 0.55], [-1.0, 1.5], [1.2, 0.8]),
    3: ([0.2, 0.5, 0.3], [-2.0, 0.1, 2.2], [0.9, 1.1, 0.7]),
    4: ([0.1, 0.2, 0.3, 0.4], [-3.0, -1.0, 0.5, 2.5], [0.7, 1.0, 0.6, 1.3]),
    5: ([0.1, 0.2, 0.3, 0.25, 0.15], [-4.0, -2.0, 0.0, 2.0, 4.0], [0.5, 0.8, 1.0, 0.8, 0.5]),
}

_NO_AVX512 = "X86_V4,AVX512_ICL,AVX512_SPR"
TARGETS = {
    "native": {},
    # the CPU name without its features: LLVM takes this CPU's AVX-512 and, not told to prefer
    # 256-bit vectors (as it is for this CPU's own name), uses 512-bit ones
    "512-bit": {"NUMBA_CPU_NAME": "haswell"},
    "haswell": {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": "", "NPY_DISABLE_CPU_FEATURES": _NO_AVX512},
    "generic": {"NUMBA_CPU_NAME": "generic"},
    "x86-64": {"NUMBA_CPU_NAME": "generic", "NPY_DISABLE_CPU_FEATURES": "X86_V3," + _NO_AVX512,
               "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4,-AVX"},
}


# ==========================================================================
# The worker: today's kernel and the variants, compiled for its target
# ==========================================================================


def _worker(name: str, datadir: str) -> None:
    import numba as nb
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    from gmmderive import GMMParams, _fused
    from gmmderive._fused import _bits_as_float, _float_as_bits
    from gmmderive.core import LOG_2PI

    assert _fused.BLOCK == BLOCK and BLOCK == 8 * COLS
    # No fast-math flag: LLVM neither reassociates nor contracts (no FMA) anywhere.
    V = dict(nogil=True, cache=False, error_model="numpy")
    u0, u1, u8, ublock, ucols = np.uint64(0), np.uint64(1), np.uint64(8), np.uint64(BLOCK), np.uint64(COLS)
    c1, c2, c3, c4, c5, c6, c7 = (np.uint64(COLS * m) for m in range(1, 8))

    @intrinsic
    def fma(typingctx, a, b, c):
        """a * b + c rounded once (llvm.fma: the same bits on every target)."""
        if not all(t == types.float64 for t in (a, b, c)):
            return None

        def codegen(context, builder, signature, args):
            f64 = ir.DoubleType()
            fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f64, [f64, f64, f64]), "llvm.fma.f64")
            return builder.call(fn, args)

        return types.float64(types.float64, types.float64, types.float64), codegen

    # ---- a logarithm without libm: fdlibm's e_log.c (error < 1 ulp), no FMA --------------
    ln2_hi, ln2_lo = 6.93147180369123816490e-01, 1.90821492927058770002e-10
    lg1, lg2, lg3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
    lg4, lg5, lg6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
    lg7 = 1.479819860511658591e-01
    two54 = 18014398509481984.0
    tiny = 2.2250738585072014e-308

    @nb.njit(inline="always", **V)
    def log_core(x, k):
        """log(x · 2^k) for a positive normal x: fdlibm's __ieee754_log without its branches."""
        bits = _float_as_bits(x)
        hx = bits >> 32
        k += (hx >> 20) - 1023
        hx &= 0x000FFFFF
        i = (hx + 0x95F64) & 0x100000
        x = _bits_as_float(((hx | (i ^ 0x3FF00000)) << 32) | (bits & 0xFFFFFFFF))  # x in [√2/2, √2)
        k += i >> 20
        f = x - 1.0
        s = f / (2.0 + f)
        dk = float(k)
        z = s * s
        w = z * z
        t1 = w * (lg2 + w * (lg4 + w * lg6))
        t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)))
        r = t2 + t1
        hfsq = 0.5 * f * f
        far = dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f)
        near = dk * ln2_hi - ((s * (f - r) - dk * ln2_lo) - f)
        return far if ((hx - 0x6147A) | (0x6B851 - hx)) > 0 else near

    @nb.njit(**V)
    def log_v(x):
        if not x > 0.0:
            return -np.inf if x == 0.0 else np.nan
        if x == np.inf:
            return x
        if x < tiny:  # subnormal: scale into the normal range
            return log_core(x * two54, -54)
        return log_core(x, 0)

    @nb.njit(**V)
    def logs_v(a):
        out = np.empty_like(a)
        for j in range(a.size):
            out[j] = log_v(a[j])
        return out

    @nb.njit(**V)
    def terms_v(weights, stds):
        """(scale, const) as core._log_joint_terms, with log_v for the logs."""
        d = weights.size
        scale = np.empty(d)
        const = np.empty(d)
        r2 = math.sqrt(2.0)
        for c in range(d):
            scale[c] = 1.0 / (r2 * stds[c])
            lw = log_v(weights[c]) if weights[c] > 0.0 else -np.inf
            const[c] = lw - (log_v(stds[c]) + 0.5 * LOG_2PI)
        return scale, const

    # ---- the exponential and the log-joint: as written, or with explicit fma -----------------
    exp_plain = nb.njit(inline="always", **V)(_fused.exp.py_func)  # today's source, no contraction
    log_joint_plain = nb.njit(**V)(_fused._log_joint_block.py_func)
    P = (_fused._P0, _fused._P1, _fused._P2, _fused._P3, _fused._P4, _fused._P5, _fused._P6, _fused._P7,
         _fused._P8, _fused._P9, _fused._P10, _fused._P11)
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11 = P
    emin, log2e, rnd, rnd_bits = _fused._EXP_MIN, _fused._LOG2E, _fused._ROUND, _fused._ROUND_BITS
    ln2h, ln2l = _fused._LN2_HI, _fused._LN2_LO

    @nb.njit(inline="always", **V)
    def exp_fma(t):
        u = t if t > emin else emin
        rounded = fma(u, log2e, rnd)
        k = rounded - rnd
        r = fma(-k, ln2l, fma(-k, ln2h, u))
        p = fma(fma(fma(fma(fma(fma(p11, r, p10), r, p9), r, p8), r, p7), r, p6), r, p5)
        p = fma(fma(fma(fma(fma(p, r, p4), r, p3), r, p2), r, p1), r, p0)
        two_k = _bits_as_float((_float_as_bits(rounded) - rnd_bits + 1023) << 52)
        return p * two_k if t > emin else 0.0

    @nb.njit(**V)
    def log_joint_fma(x, j0, n, means, scale, const, log_joint, shift):
        for j in range(n):
            shift[j] = -np.inf
        for c in range(means.size):
            mu = means[c]
            sc = scale[c]
            k = const[c]
            row = log_joint[c]
            for j in range(n):
                z = (x[j0 + j] - mu) * sc
                v = fma(-z, z, k)
                row[j] = v
                shift[j] = v if v > shift[j] else shift[j]

    # ---- the fixed order -----------------------------------------------------------------------
    @nb.njit(inline="always", **V)
    def tree8(a, b, c, d, e, f, g, h):
        return ((a + b) + (c + d)) + ((e + f) + (g + h))

    @nb.njit(inline="always", **V)
    def fold8(t, i, s):
        """t[i] + t[i + s] + ... + t[i + 7s], as tree8."""
        return tree8(t[i], t[i + s], t[i + (s + s)], t[i + (s + s + s)], t[i + (s + s + s + s)],
                     t[i + (s + s + s + s + s)], t[i + (s + s + s + s + s + s)], t[i + (s + s + s + s + s + s + s)])

    @nb.njit(inline="always", **V)
    def pfold8(t, i, s):
        """t[i] · t[i + s] · ... · t[i + 7s], in tree8's order."""
        return (((t[i] * t[i + s]) * (t[i + (s + s)] * t[i + (s + s + s)]))
                * ((t[i + (s + s + s + s)] * t[i + (s + s + s + s + s)])
                   * (t[i + (s + s + s + s + s + s)] * t[i + (s + s + s + s + s + s + s)])))

    @nb.njit(inline="always", **V)
    def block_sum(t, cols, lanes):
        """Σ t[0:1024]: columns, then lanes, then the tree of the lanes (cols, lanes: scratch)."""
        for i in range(u0, ucols):
            cols[i] = fold8(t, i, ucols)
        for lane in range(u0, u8):
            lanes[lane] = fold8(cols, lane, u8) + fold8(cols, lane + np.uint64(64), u8)
        return fold8(lanes, u0, u1)

    @nb.njit(**V)
    def log_likelihood_block_v(shift, total, cols, lanes):
        """Σ_j shift[j] + Σ_lanes log Π_lane total[j]; total → 1 / total in place."""
        ll = block_sum(shift, cols, lanes)
        for i in range(u0, ucols):
            cols[i] = pfold8(total, i, ucols)
        for lane in range(u0, u8):
            lanes[lane] = pfold8(cols, lane, u8) * pfold8(cols, lane + np.uint64(64), u8)
        for lane in range(u0, u8):  # products in [1, D^128]: positive, normal
            lanes[lane] = log_core(lanes[lane], 0)
        ll += fold8(lanes, u0, u1)
        for j in range(u0, ublock):
            total[j] = 1.0 / total[j]
        return ll

    @nb.njit(inline="always", **V)
    def term(row, inv, x, j0, k, center):
        r = row[k] * inv[k]
        rd = r * (x[j0 + k] - center)
        return r, rd, rd * (x[j0 + k] - center)

    @nb.njit(**V)
    def sums_block_v(x, j0, centers, scaled, inv, part, b, cols3, lanes3):
        """part[b, 1:, c] = (γ, S1, S2) of the block, in the fixed order."""
        tg, t1, t2 = cols3[0], cols3[1], cols3[2]
        for c in range(centers.size):
            ce = centers[c]
            row = scaled[c]
            for i in range(u0, ucols):
                g0, a0, q0 = term(row, inv, x, j0, i, ce)
                g1, a1, q1 = term(row, inv, x, j0, i + c1, ce)
                g2, a2, q2 = term(row, inv, x, j0, i + c2, ce)
                g3, a3, q3 = term(row, inv, x, j0, i + c3, ce)
                g4, a4, q4 = term(row, inv, x, j0, i + c4, ce)
                g5, a5, q5 = term(row, inv, x, j0, i + c5, ce)
                g6, a6, q6 = term(row, inv, x, j0, i + c6, ce)
                g7, a7, q7 = term(row, inv, x, j0, i + c7, ce)
                tg[i] = tree8(g0, g1, g2, g3, g4, g5, g6, g7)
                t1[i] = tree8(a0, a1, a2, a3, a4, a5, a6, a7)
                t2[i] = tree8(q0, q1, q2, q3, q4, q5, q6, q7)
            for k in range(3):
                cols, lanes = cols3[k], lanes3[k]
                for lane in range(u0, u8):
                    lanes[lane] = fold8(cols, lane, u8) + fold8(cols, lane + np.uint64(64), u8)
                part[b, 1 + k, c] = fold8(lanes, u0, u1)

    @nb.njit(**V)
    def block_order_sum(part):
        out = part[0].copy()
        for b in range(1, part.shape[0]):
            for i in range(part.shape[1]):
                for c in range(part.shape[2]):
                    out[i, c] += part[b, i, c]
        return out

    def make_variant(with_fma):
        ex = exp_fma if with_fma else exp_plain
        log_joint_block = log_joint_fma if with_fma else log_joint_plain

        @nb.njit(**V)
        def exp_block(n, log_joint, shift, total):
            for j in range(n):
                total[j] = 0.0
            for c in range(log_joint.shape[0]):
                row = log_joint[c]
                for j in range(n):
                    e = ex(row[j] - shift[j])
                    row[j] = e
                    total[j] += e  # per sample, in class order: no reduction across samples

        @nb.njit(**V)
        def blocks(x, means, scale, const, centers, first, stop, part):
            d = means.size
            log_joint = np.empty((d, BLOCK))
            shift = np.empty(BLOCK)
            total = np.empty(BLOCK)
            xpad = np.empty(BLOCK)
            cols3 = np.empty((3, COLS))
            lanes3 = np.empty((3, 8))
            for b in range(first, stop):
                n = min(BLOCK, x.size - b * BLOCK)
                if n == BLOCK:
                    xb, j0 = x, np.uint64(b * BLOCK)
                else:  # the last block, padded with copies of its first sample that count for nothing
                    for j in range(BLOCK):
                        xpad[j] = x[b * BLOCK + (j if j < n else 0)]
                    xb, j0 = xpad, u0
                log_joint_block(xb, j0, ublock, means, scale, const, log_joint, shift)
                exp_block(ublock, log_joint, shift, total)
                for j in range(n, BLOCK):
                    shift[j] = 0.0
                    total[j] = 1.0
                    for c in range(d):
                        log_joint[c, j] = 0.0
                part[b, 0, 0] = log_likelihood_block_v(shift, total, cols3[0], lanes3[0])
                sums_block_v(xb, j0, centers, log_joint, total, part, b, cols3, lanes3)

        def statistics(x, params, centers=None, max_threads=None):
            """As _fused.sufficient_statistics (no weights, no responsibilities), in the fixed order."""
            d = params.n_components
            if d >= 220:
                raise ValueError("a lane product of 128 factors in [1, D] overflows for D >= 220")
            means = np.array(params.means, dtype=np.float64)
            centers = means if centers is None else np.array(centers, dtype=np.float64)
            scale, const = terms_v(np.array(params.weights), np.array(params.stds))
            n_blocks = -(-x.size // BLOCK)
            part = np.zeros((n_blocks, 4, d))
            args = (x, means, scale, const, centers)
            threads = _fused._n_threads(n_blocks)
            threads = threads if max_threads is None else max(1, min(max_threads, threads))
            if threads == 1:
                blocks(*args, 0, n_blocks, part)
            else:
                bounds = [t * n_blocks // threads for t in range(threads + 1)]
                pool = _fused._executor(threads - 1)
                others = [pool.submit(blocks, *args, bounds[t], bounds[t + 1], part) for t in range(1, threads)]
                blocks(*args, bounds[0], bounds[1], part)
                for f in others:
                    f.result()
            sums = block_order_sum(part)
            return float(sums[0, 0]), sums[1], sums[2], sums[3]

        return statistics, blocks

    variant, blocks_plain = make_variant(False)
    variant_fma, blocks_fma = make_variant(True)

    def today(x, params, max_threads=None):
        return _fused.sufficient_statistics(x, params, max_threads=max_threads)

    # ---- data and the commands ---------------------------------------------------------------
    x_all = np.load(os.path.join(datadir, "x.npy"))
    log_args = np.load(os.path.join(datadir, "log_args.npy"))
    params = {d: GMMParams(*p) for d, p in PARAMS.items()}
    kernels = {"today": today, "variant": variant, "variant+fma": variant_fma}

    def as_hex(result):
        ll, g, s1, s2 = result
        return [ll.hex()] + [float(v).hex() for v in (*g, *s1, *s2)]

    def inspect(dispatchers):
        """FMA instructions, fma calls, lines using 512- and 256-bit registers, in the compiled code."""
        asm = "".join(f.inspect_asm(sig) for f in dispatchers for sig in f.signatures)
        lines = asm.splitlines()
        return (len(re.findall(r"\bv?fn?m(?:add|sub)\d{3}[sp]d", asm)), len(re.findall(r"call.*\bfma\b", asm)),
                sum("%zmm" in t for t in lines), sum("%ymm" in t for t in lines))

    def one_pass(f, n, d, number, th=1):
        x, p = x_all[:n], params[d]
        f(x, p, max_threads=th)
        t0 = time.perf_counter()
        for _ in range(number):
            f(x, p, max_threads=th)
        return (time.perf_counter() - t0) / number

    def send(obj):
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "check":
            out = {"target": name, "cases": {}}
            for n, d, th in CHECK_CASES:
                x = x_all[:n]
                out["cases"][f"{n},{d},{th}"] = {k: as_hex(f(x, params[d], max_threads=th)) for k, f in kernels.items()}
            # _blocks's code holds the kernels it calls (blocks' too)
            out["asm"] = {"today": inspect([_fused._blocks]), "variant": inspect([blocks_plain, terms_v]),
                          "variant+fma": inspect([blocks_fma])}
            logs = logs_v(log_args)
            exact = np.array([math.log(a) for a in log_args])
            out["log_hash"] = hashlib.sha256(logs.tobytes()).hexdigest()
            out["log_max_ulp"] = float(np.max(np.abs(logs - exact) / np.spacing(np.abs(exact))))
            # today's constants of the log-joint, from np.log (NumPy's dispatch)
            out["const_hex"] = [float(v).hex() for d in (2, 4) for v in _fused._log_joint_terms(params[d])[1]]
            out["one_pass_ms"] = {k: 1e3 * min(one_pass(f, 100_000, 2, 2) for _ in range(3))
                                  for k, f in kernels.items()}
            send(out)
        elif cmd[0] == "time":
            kernel, n, d, th, number = cmd[1], int(cmd[2]), int(cmd[3]), int(cmd[4]), int(cmd[5])
            send({"t": one_pass(kernels[kernel], n, d, number, th)})
        elif cmd[0] == "quit":
            return


# ==========================================================================
# The parent: data, the workers, the comparisons and the table
# ==========================================================================


class Worker:
    def __init__(self, name, datadir, cachedir):
        env = dict(os.environ, NUMBA_CACHE_DIR=os.path.join(cachedir, name), **TARGETS[name])
        env.pop("GMMDERIVE_NUM_THREADS", None)
        self.name = name
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", name, datadir],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def send(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def receive(self):
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"worker {self.name} died (see its stderr above)")
        return json.loads(reply)

    def ask(self, command):
        self.send(command)
        return self.receive()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def make_data(datadir):
    rng = np.random.default_rng(22)
    n = max(n for n, _, _ in CHECK_CASES + TIME_CASES)
    comp = rng.integers(0, 4, n)
    x = np.array([-3.0, -1.0, 0.5, 2.5])[comp] + np.array([0.7, 1.0, 0.6, 1.3])[comp] * rng.standard_normal(n)
    np.save(os.path.join(datadir, "x.npy"), x)
    # arguments for the log: the lane products (in [1, 1e300]), near 1, and the whole range
    logs = np.concatenate([np.exp(rng.uniform(0.0, 690.0, 300_000)), rng.uniform(0.999, 1.001, 100_000),
                           np.exp(rng.uniform(-744.0, 709.0, 100_000)),
                           [1.0, 2.0, 0.5, 5e-324, 2.2250738585072014e-308]])
    np.save(os.path.join(datadir, "log_args.npy"), logs)


def compare(a, b):
    """'identical' or how many of the cases differ (and in how many of their numbers)."""
    cases = [k for k in a if a[k] != b[k]]
    if not cases:
        return f"identical ({len(a)}/{len(a)} cases)"
    numbers = sum(sum(u != v for u, v in zip(a[k], b[k])) for k in cases)
    total = sum(len(a[k]) for k in cases)
    return f"DIFFERS ({len(cases)}/{len(a)} cases, {numbers}/{total} numbers)"


def agreement(today, variant):
    """Largest relative differences: (ll, γ, S2), and S1 over sqrt(γ·S2)."""
    worst = [0.0, 0.0]
    for k in today:
        t = np.array([float.fromhex(v) for v in today[k]])
        v = np.array([float.fromhex(u) for u in variant[k]])
        d = (t.size - 1) // 3
        g, s1, s2 = t[1:1 + d], t[1 + d:1 + 2 * d], t[1 + 2 * d:]
        rel = np.abs(v - t) / np.abs(t)
        worst[0] = max(worst[0], rel[0], rel[1:1 + d].max(), rel[1 + 2 * d:].max())
        worst[1] = max(worst[1], float(np.max(np.abs(v[1 + d:1 + 2 * d] - s1) / np.sqrt(g * s2))))
    return worst


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="timed repeats per configuration (median reported)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(*args.worker)
        return

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_sumorder_") as tmp:
        make_data(tmp)
        workers = {name: Worker(name, tmp, tmp) for name in TARGETS}
        try:
            for w in workers.values():  # the workers compile in parallel
                w.send("check")
            checks = {name: w.receive() for name, w in workers.items()}
            for name in TARGETS:
                if name not in TIMED:
                    workers[name].close()
            times = {}
            runs = [(w, k) for w, ks in TIMED.items() for k in ks]
            for rep in range(args.repeats):
                for n, d, th in TIME_CASES:
                    number = max(2, 2_000_000 // n)
                    shift = rep % len(runs)
                    for w, k in runs[shift:] + runs[:shift]:  # rotate the order every repeat
                        t = workers[w].ask(f"time {k} {n} {d} {th} {number}")["t"]
                        times.setdefault((n, d, th, w, k), []).append(t)
        finally:
            for w in workers.values():
                w.close()

    print("Fixed summation order for the fused pass (#22): columns, lanes, trees; no reassociation")
    print("targets: " + "; ".join(f"{k}: {' '.join(f'{a}={b}' for a, b in v.items()) or 'this CPU'}"
                                  for k, v in TARGETS.items()))
    print()
    print("1. Bit identity of (log-likelihood, γ, S1, S2), cases (N, D, threads) = "
          + ", ".join(f"({n:,}, {d}, {th})" for n, d, th in CHECK_CASES))
    ref = checks["native"]
    print(f"   {'against native':<16}" + "".join(f"{k:<36}" for k in KERNELS))
    for name in TARGETS:
        if name != "native":
            row = [compare({c: v[k] for c, v in ref["cases"].items()},
                           {c: v[k] for c, v in checks[name]["cases"].items()}) for k in KERNELS]
            print(f"   {name:<16}" + "".join(f"{r:<36}" for r in row))
    one, two = ref["cases"]["1000000,4,1"], ref["cases"]["1000000,4,2"]
    print("   native, 1 vs 2 threads: " + ", ".join(f"{k} {'identical' if one[k] == two[k] else 'DIFFERS'}"
                                                 for k in KERNELS))
    print("   compiled pass: FMA instructions, calls to libm's fma, lines using zmm (512-bit), ymm (256-bit)")
    for name, c in checks.items():
        print(f"     {name:<9}" + "   ".join(f"{k} {f}/{cl}/{z}/{y}" for k, (f, cl, z, y) in c["asm"].items()))
    print("   today's log-joint constants (np.log of π, σ) equal to native's: "
          + ", ".join(f"{k} {'yes' if c['const_hex'] == ref['const_hex'] else 'NO'}" for k, c in checks.items()))
    print(f"   the variants' log (fdlibm, not libm): same bits on every target: "
          f"{'yes' if len({c['log_hash'] for c in checks.values()}) == 1 else 'NO'}; "
          f"largest difference from this machine's math.log: {ref['log_max_ulp']:.2f} ulp")
    print("   one pass at N = 100,000, D = 2 (ms, best of 3, not interleaved): "
          + "; ".join(f"{name} " + " ".join(f"{k} {t:.2f}" for k, t in c["one_pass_ms"].items())
                      for name, c in checks.items()))
    print()
    for k in KERNELS[1:]:
        w1, w2 = agreement({c: v["today"] for c, v in ref["cases"].items()},
                           {c: v[k] for c, v in ref["cases"].items()})
        print(f"2. {k} against today's kernel (native): largest relative difference of ll, γ, S2: {w1:.1e}; "
              f"of S1 relative to sqrt(γ·S2): {w2:.1e}")
    print()
    print(f"3. One pass, median of {args.repeats} interleaved repeats (ms); ratios: median over the repeats of the"
          " ratio within the repeat")
    print(f"   {'N':>9} {'D':>2} {'thr':>3}  {'today':>7} {'variant':>8} {'+fma':>7}  {'ratio':>5} {'+fma':>5}"
          f"   generic: {'today':>7} {'variant':>8}  variant generic/native")
    for n, d, th in TIME_CASES:
        t = {(w, k): np.array(times[(n, d, th, w, k)]) for w, ks in TIMED.items() for k in ks}
        m = {key: 1e3 * float(np.median(v)) for key, v in t.items()}

        def ratio(a, b, t=t):
            return float(np.median(t[a] / t[b]))

        nt, nv, nf, gv = ("native", "today"), ("native", "variant"), ("native", "variant+fma"), ("generic", "variant")
        print(f"   {n:>9,} {d:>2} {th:>3}  {m[nt]:7.3f} {m[nv]:8.3f} {m[nf]:7.3f}  {ratio(nv, nt):5.2f} "
              f"{ratio(nf, nt):5.2f}            {m['generic', 'today']:7.3f} {m[gv]:8.3f}  {ratio(gv, nv):22.2f}")
    print(f"\ntotal run time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
