"""photon.data against Ray Data, with the same code (issue 16's benchmarks).

    python bench/data_benchmark.py --backend photon|ray [--size quick|full]
        [--data DIR] [--json F]

Generates (once, with pyarrow alone, deterministically; reused by the other
backend) a folder of parquet files: `wide` (id and 8 float64 columns, ~2 GB in
memory at --size full) and `kv` (10M rows of an int key in 1,000 groups and a
float value). Then, on a fresh local cluster of 2 CPUs, runs and times:

  etl          read_parquet(wide) -> map_batches(numpy, batch_size=4096) -> write_parquet
  groupby      read_parquet(kv).groupby("k").mean("v"), all groups taken
  sort         read_parquet(kv).sort("v"), materialized
  iter_batches read_parquet(wide).iter_batches(batch_size=4096): rows/s and GB/s
  actor_pool   read_parquet(wide).map_batches(callable class, ActorPoolStrategy(size=2),
               batch_size=4096, num_cpus=0.5), iterated (half a CPU per actor: with a
               whole one each, Ray Data's reads find no CPU left and the run stalls)

For each: seconds, rows, and the peak memory of the whole cluster (the PSS of
the driver and every process it started, summed, sampled every 50 ms). One line per
run; --json writes {"backend", "size", "runs": [...]}.
"""
import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time

import numpy as np
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

SIZES = {
    # rows of `wide` (72 bytes a row in memory) and of `kv`, files of each
    "quick": {"wide_rows": 2_000_000, "kv_rows": 1_000_000, "files": 8},
    "full": {"wide_rows": 28_000_000, "kv_rows": 10_000_000, "files": 32},
}
MiB = 2**20


def generate(folder, size):
    """The input files, made once per size (a marker file says they are whole)."""
    spec = SIZES[size]
    root = os.path.join(folder, size)
    if os.path.exists(os.path.join(root, "DONE")):
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = np.random.default_rng(0)
    for name, rows in (("wide", spec["wide_rows"]), ("kv", spec["kv_rows"])):
        os.makedirs(os.path.join(root, name))
        per = rows // spec["files"]
        for i in range(spec["files"]):
            ids = np.arange(i * per, (i + 1) * per, dtype=np.int64)
            if name == "wide":
                cols = {"id": ids}
                for c in range(8):
                    cols[f"x{c}"] = rng.random(per)
            else:
                cols = {"k": rng.integers(0, 1000, per), "v": rng.random(per)}
            pq.write_table(pa.table(cols), os.path.join(root, name, f"part-{i:03}.parquet"))
    open(os.path.join(root, "DONE"), "w").close()
    return root


class PeakMemory:
    """The peak summed PSS (proportional set size: a page shared by k
    processes counts 1/k in each, so the object store's shared memory is
    counted once) of this process and all its descendants."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        me = psutil.Process()
        total = 0
        for p in [me] + me.children(recursive=True):
            try:
                total += p.memory_full_info().pss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def transform(batch):
    batch["x0"] = batch["x0"] * 2.0 + batch["x1"]
    return batch


class Scale:
    def __init__(self):
        self.factor = 3.0

    def __call__(self, batch):
        batch["x0"] = batch["x0"] * self.factor
        return batch


def benchmarks(ray, root, scratch):
    wide, kv = os.path.join(root, "wide"), os.path.join(root, "kv")

    def etl():
        out = os.path.join(scratch, "etl-out")
        shutil.rmtree(out, ignore_errors=True)
        ray.data.read_parquet(wide).map_batches(
            transform, batch_format="numpy", batch_size=4096).write_parquet(out)
        rows = pq.ParquetDataset(out).read(columns=["id"]).num_rows
        shutil.rmtree(out, ignore_errors=True)
        return rows, None

    def groupby():
        groups = ray.data.read_parquet(kv).groupby("k").mean("v").take_all()
        assert len(groups) == 1000, len(groups)
        return pq.ParquetDataset(kv).read(columns=["k"]).num_rows, None  # rows aggregated

    def sort():
        ds = ray.data.read_parquet(kv).sort("v").materialize()
        return ds.count(), None

    def iter_batches():
        rows = nbytes = 0
        for b in ray.data.read_parquet(wide).iter_batches(batch_size=4096):
            rows += len(b["id"])
            nbytes += sum(v.nbytes for v in b.values())
        return rows, nbytes

    def actor_pool():
        rows = 0
        ds = ray.data.read_parquet(wide).map_batches(
            Scale, compute=ray.data.ActorPoolStrategy(size=2), batch_size=4096, num_cpus=0.5)
        for b in ds.iter_batches(batch_size=None):
            rows += len(b["id"])
        return rows, None

    return {"etl": etl, "groupby": groupby, "sort": sort, "iter_batches": iter_batches,
            "actor_pool": actor_pool}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["photon", "ray"], required=True)
    p.add_argument("--size", choices=sorted(SIZES), default="full")
    p.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "photon-data-bench"))
    p.add_argument("--only", default="", help="comma-separated benchmark names")
    p.add_argument("--json")
    a = p.parse_args()
    root = generate(a.data, a.size)
    ray = importlib.import_module(a.backend)
    importlib.import_module(f"{a.backend}.data")
    scratch = tempfile.mkdtemp(prefix="data-bench-")
    kwargs = {"include_dashboard": False} if a.backend == "ray" else {}
    ray.init(num_cpus=2, **kwargs)
    ray.data.DataContext.get_current().enable_progress_bars = False
    runs = []
    try:
        only = set(filter(None, a.only.split(",")))
        for name, fn in benchmarks(ray, root, scratch).items():
            if only and name not in only:
                continue
            with PeakMemory() as mem:
                start = time.perf_counter()
                rows, nbytes = fn()
                seconds = time.perf_counter() - start
            run = {"benchmark": name, "seconds": round(seconds, 3), "rows": rows,
                   "rows_per_s": round(rows / seconds), "peak_mib": round(mem.peak / MiB)}
            if nbytes:
                run["gb_per_s"] = round(nbytes / seconds / 1e9, 3)
            runs.append(run)
            print(json.dumps(run), flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"backend": a.backend, "size": a.size, "runs": runs}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
