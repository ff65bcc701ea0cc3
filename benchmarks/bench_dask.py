"""EM on data read from disk through Dask, against the in-memory fit of the same data (#16).

2·10⁸ float64 values (1.6 GB; three Gaussian classes) are written to a ``.npy`` file, then
read through Dask in chunks of ``--chunk`` values (``np.fromfile`` at an offset, so nothing
of the file stays mapped in the process). Each measurement runs in its own Python process,
which reports its peak resident memory (``VmHWM``) and its memory before the fit.

- time per EM iteration: the median duration of the evaluations of the EM map M (one pass
  over the data each) within ``fit(x, init=θ0, tol=0, accelerate=False, max_iter=8)``, and
  the whole fit. In memory: the same with the file loaded into a NumPy array.
- scheduler overhead per iteration: one Dask computation of a task per chunk that does
  nothing, on a graph of as many chunks (median of 20), on the threaded scheduler and on a
  ``distributed.LocalCluster`` of two worker processes; and the time to read the file
  through Dask alone, a task per chunk that reads it (median of 3).
- peak memory of the Dask fit against the size of one chunk and of the data.

Run: ``.venv/bin/python benchmarks/bench_dask.py [-n N] [--chunk C] [--dir DIR]``. The file
is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

THETA = dict(weights=[0.3, 0.5, 0.2], means=[-2.0, 0.5, 3.0], stds=[1.0, 0.7, 1.5])
START = dict(weights=[1 / 3, 1 / 3, 1 / 3], means=[-1.5, 0.0, 2.0], stds=[1.0, 1.0, 1.0])


def write_data(path: str, n: int, block: int = 10_000_000) -> None:
    """n samples of THETA's mixture, written block by block (the writer never holds all of them)."""
    rng = np.random.default_rng(0)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n,))
    for start in range(0, n, block):
        m = min(block, n - start)
        labels = rng.choice(3, size=m, p=THETA["weights"])
        out[start:start + m] = rng.normal(np.take(THETA["means"], labels), np.take(THETA["stds"], labels))
    out.flush()
    del out


def _status_mb(field: str) -> float:
    """VmRSS (resident now) or VmHWM (peak resident) of this process, in MiB.

    Not ``ru_maxrss``: on Linux it survives exec, so a child started by vfork from a large
    parent (subprocess does) reports the parent's peak.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _read(path, offset, start, count):
    return np.fromfile(path, dtype=np.float64, count=count, offset=offset + 8 * start)


def dask_array(path: str, chunk: int):
    """The file as a Dask array: one read task per chunk."""
    import dask
    import dask.array as da

    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = header(f)
        offset = f.tell()
    n = shape[0]
    blocks = [da.from_delayed(dask.delayed(_read)(path, offset, s, min(chunk, n - s)), shape=(min(chunk, n - s),),
                              dtype=np.float64) for s in range(0, n, chunk)]
    return da.concatenate(blocks)


def _timed_evaluations():
    """Record the seconds of every evaluation of the EM map M during a fit (gmmderive.em)."""
    from gmmderive import em

    seconds = []
    original = em.Evaluator.__call__

    def timed(self, p, keep_flags=True):
        t = time.perf_counter()
        out = original(self, p, keep_flags)
        seconds.append(time.perf_counter() - t)
        return out

    em.Evaluator.__call__ = timed
    return seconds


def _noop(i):
    return 0


def child(mode: str, path: str, chunk: int, iters: int) -> dict:
    """One measurement, in this (fresh) process: the fit's seconds, per evaluation, and memory."""
    import gmmderive as g

    g.fit(np.random.default_rng(1).normal(size=5000), init=g.GMMParams(**START), max_iter=3, tol=0)  # compile
    start = g.GMMParams(**START)
    if mode == "read":  # reading alone: one computation of the read tasks (median of 3)
        import dask

        parts = dask_array(path, chunk).to_delayed().ravel().tolist()
        size = dask.delayed(len)
        times = []
        with dask.config.set(scheduler="threads"):
            for _ in range(3):
                t = time.perf_counter()
                dask.compute(*[size(p) for p in parts])
                times.append(time.perf_counter() - t)
        return {"read": float(np.median(times))}
    if mode == "scheduler":  # the scheduler alone: one computation of a no-op task per chunk
        import dask

        n_parts = len(dask_array(path, chunk).chunks[0])
        noop = dask.delayed(_noop)

        def median_time():
            times = []
            for _ in range(20):
                t = time.perf_counter()
                dask.compute(*[noop(i) for i in range(n_parts)])
                times.append(time.perf_counter() - t)
            return float(np.median(times))

        with dask.config.set(scheduler="threads"):
            threads = median_time()
        try:  # and a distributed cluster of two worker processes on this machine
            from distributed import Client, LocalCluster
        except ImportError:
            return {"overhead": threads, "chunks": n_parts, "distributed": None}
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster, \
                Client(cluster):
            median_time()  # warm up the workers
            cluster_time = median_time()
        return {"overhead": threads, "chunks": n_parts, "distributed": cluster_time}
    evaluations = _timed_evaluations()
    load = 0.0
    if mode == "dask":
        import dask

        x = dask_array(path, chunk)
        dask.config.set(scheduler="threads")
    else:
        t = time.perf_counter()
        x = np.load(path)
        load = time.perf_counter() - t
    before = _status_mb("VmRSS")
    t = time.perf_counter()
    res = g.fit(x, init=start, tol=0.0, max_iter=iters, accelerate=False)
    seconds = time.perf_counter() - t
    peak = _status_mb("VmHWM")
    return {"seconds": seconds, "per_evaluation": float(np.median(evaluations)), "evaluations": len(evaluations),
            "n_iter": res.n_iter, "ll": res.log_likelihood, "before_mb": before, "peak_mb": peak,
            "means": res.params.means.tolist(), "load": load}


def run_child(*args) -> dict:
    cmd = [sys.executable, __file__, "--child", *map(str, args)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200_000_000, help="number of samples (default 2e8)")
    ap.add_argument("--chunk", type=int, default=1 << 23, help="values per chunk (default 2^23: 64 MiB)")
    ap.add_argument("--iters", type=int, default=8, help="EM iterations of each fit (default 8)")
    ap.add_argument("--dir", default=None, help="where the .npy file is written (default: a temporary dir)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        mode, path, chunk, iters = args.child
        print(json.dumps(child(mode, path, int(chunk), int(iters))))
        return

    import dask

    threads = os.environ.get("GMMDERIVE_NUM_THREADS") or len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "x.npy")
        t = time.perf_counter()
        write_data(path, args.n)
        print(f"data: {args.n:,} float64 ({8 * args.n / 2**30:.2f} GiB) written in {time.perf_counter() - t:.1f} s; "
              f"chunks of {args.chunk:,} values ({8 * args.chunk / 2**20:.0f} MiB); D = 3; {threads} cores; "
              f"dask {dask.__version__}, threaded scheduler")
        rows = {mode: run_child(mode, path, args.chunk, args.iters) for mode in ("dask", "memory")}
        sched = run_child("scheduler", path, args.chunk, 0)
        read = run_child("read", path, args.chunk, 0)["read"]
        d, m = rows["dask"], rows["memory"]
        assert d["n_iter"] == m["n_iter"] == args.iters
        print(f"time per EM iteration (median of {d['evaluations']} evaluations of M in one fit): "
              f"Dask {d['per_evaluation']:.3f} s, in memory {m['per_evaluation']:.3f} s "
              f"(ratio {d['per_evaluation'] / m['per_evaluation']:.2f})")
        print(f"whole fit ({args.iters} iterations, the checks, the frame, the final log-likelihood and, in memory, "
              f"the N x D responsibilities): Dask {d['seconds']:.1f} s, in memory {m['seconds']:.1f} s "
              f"(+ {m['load']:.1f} s to load the file)")
        print(f"reading the file through Dask (a task per chunk that only reads it): {read:.3f} s per pass")
        print(f"scheduler overhead per iteration: {1e3 * sched['overhead']:.2f} ms for {sched['chunks']} no-op tasks "
              f"({100 * sched['overhead'] / d['per_evaluation']:.2f}% of the Dask iteration)")
        if sched["distributed"] is None:
            print("distributed is not installed: no cluster overhead measured")
        else:
            print("  the same on a distributed.LocalCluster of 2 worker processes: "
                  f"{1e3 * sched['distributed']:.2f} ms")
        chunk_mb = 8 * args.chunk / 2**20
        for mode, r in rows.items():
            grow = r["peak_mb"] - r["before_mb"]
            print(f"peak memory, {mode}: {r['peak_mb']:.0f} MiB resident ({r['before_mb']:.0f} MiB before the fit: "
                  f"+{grow:.0f} MiB = {grow / chunk_mb:.1f} chunks = {grow / (8 * args.n / 2**20):.2f} of the data)")
        rel = abs(d["ll"] - m["ll"]) / abs(m["ll"])
        print(f"same fit: log-likelihoods after {args.iters} iterations differ by {rel:.1e} (relative); "
              f"means {np.round(d['means'], 6).tolist()} vs {np.round(m['means'], 6).tolist()}")


if __name__ == "__main__":
    main()
