"""`make bench` and `make bench-compare`: Photon's benchmark suite, and the same
benchmark code run against Ray back to back on this machine.

    python bench/compare.py [--compare-ray] [--quick] [--out bench/results]

Runs bench/python_microbenchmark.py (Ray's ray_perf.py metrics, measured as
Ray measures them) on Photon and, with --compare-ray, on Ray installed from
the package registry into its own virtual environment (.venv-ray, git-ignored,
made once and reused; RAY_PYTHON names another interpreter with Ray). Adds
the C++ API variants and the bare gRPC round trip from the C++ runtime
benchmark. Writes <out>/microbenchmarks.json (machine, baselines, every
metric of both systems) and, for a full comparison run, the table between
the bench-compare markers of docs/benchmarks.md and docs/benchmarks.json.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RAY_SPEC = "ray[default,data,tune,train,serve,rllib]==2.60.*"  # data, tune, train, serve, rllib: the library comparisons
# The CPU build of PyTorch (unpinned, pip would pull a multi-GB CUDA build), optuna, gymnasium.
RAY_EXTRA = ["torch==2.13.0", "optuna", "gymnasium"]
VENV = os.path.join(ROOT, ".venv-ray")
BEGIN, END = "<!-- bench-compare:begin -->", "<!-- bench-compare:end -->"
BASELINES = ("memcpy_800mib_baseline", "unix_socket_ping_pong_baseline", "bare_grpc_roundtrip")


def ray_python():
    """An interpreter with Ray: RAY_PYTHON, else .venv-ray (made if missing)."""
    given = os.environ.get("RAY_PYTHON")
    if given:
        return given
    py = os.path.join(VENV, "bin", "python")
    if not os.path.exists(py):
        print(f"creating {VENV} with {RAY_SPEC}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = subprocess.run([py, "-c", "import ray, numpy, psutil, pyarrow, pandas, torch, optuna, "
                            "ray.tune, ray.train, ray.serve, ray.rllib, gymnasium, httpx"], capture_output=True)
    if probe.returncode != 0:  # psutil: the scalability runs read their processes with it
        subprocess.run([py, "-m", "pip", "install", "-q", RAY_SPEC, "numpy", "psutil", "httpx", *RAY_EXTRA],
                       check=True)
    return py


def photon_env():
    """This environment with Photon's package and build on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "python"), os.path.join(ROOT, "build", "python")] +
        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def ray_env():
    """This environment without Photon's settings, for the Ray runs."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PHOTON_")}


def run_json(python, script, backend, args, path, env):
    """Runs bench/<script> --backend backend --json path [args] and returns its "runs"."""
    cmd = [python, os.path.join(ROOT, "bench", script), "--backend", backend, "--json", path] + args
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    with open(path) as f:
        return json.load(f)["runs"]


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "memory_gib": round(mem / 2**30, 1), "kernel": platform.release(),
            "python": platform.python_version()}


def run_python(python, backend, out, quick, env):
    path = os.path.join(out, f"micro_{backend}.json")
    cmd = [python, os.path.join(ROOT, "bench", "python_microbenchmark.py"), "--backend", backend,
           "--json", path] + (["--quick"] if quick else [])
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    with open(path) as f:
        return json.load(f)


def run_cpp(quick, env):
    """The C++ API variants (best of repetitions, as that harness reports)."""
    exe = os.path.join(ROOT, "build", "bin", "runtime_benchmark")
    if not os.path.exists(exe):
        return []
    cmd = [exe] + (["--quick"] if quick else [])
    print("$ " + " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True, cwd=ROOT)
    rows = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            try:
                value = float(parts[1])
            except ValueError:
                continue
            name = parts[0] if parts[0] in BASELINES else "cpp_" + parts[0]
            rows.append({"name": name, "mean": value, "std": 0.0, "unit": parts[2]})
    return rows


def fmt(r):
    if r is None:
        return "—"
    return f"{r['mean']:,.1f} ± {r['std']:,.1f}"


def table(photon, ray):
    by_ray = {r["name"]: r for r in ray}
    lines = ["| metric | unit | Ray mean ± std | Photon mean ± std | Photon / Ray |",
             "|---|---|---|---|---|"]
    for r in photon:
        other = by_ray.get(r["name"])
        ratio = f"{r['mean'] / other['mean']:.2f}×" if other and other["mean"] > 0 else "—"
        lines.append(f"| {r['name']} | {r['unit']} | {fmt(other)} | {fmt(r)} | {ratio} |")
    return "\n".join(lines)


def write_doc(text, begin=BEGIN, end=END):
    """Puts `text` (which starts with `begin` and ends with `end`) in place of
    that section of docs/benchmarks.md, or at its end."""
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    with open(path) as f:
        doc = f.read()
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + text + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    with open(path, "w") as f:
        f.write(doc)


def library_table(rows, photon, ray):
    """A library comparison's table: rows of (run, field, label, higher_is_better)."""
    lines = ["| benchmark | Ray 2.60 | Photon | Photon vs Ray |", "|---|---:|---:|---:|"]
    for key, field, what, higher_better in rows:
        p = photon.get(key, {}).get(field)
        r = ray.get(key, {}).get(field) if ray else None
        if p is None:
            continue
        if r:
            ratio = p / r if higher_better else r / p
            verdict = f"{ratio:.2f}× {'faster' if ratio >= 1 else 'slower'}"
        else:
            verdict = "—"
        lines.append(f"| {what} | {r if r is not None else '—'} | {p} | {verdict} |")
    return "\n".join(lines)


def library_main(*, name, script, target, rows, setup):
    """main() of a library comparison (bench/<name>_compare.py): runs
    bench/<script> on Photon (and with --compare-ray on Ray), prints the table,
    and (compared, not --quick) rewrites docs/benchmarks.md between the
    <name>-bench markers and docs/benchmarks-<name>.json. `setup` describes
    the runs after the machine's line."""
    p = argparse.ArgumentParser()
    p.add_argument("--compare-ray", action="store_true")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.splitext(script)[0].replace("_benchmark", "")
    args = ["--quick"] if a.quick else []
    photon = run_json(sys.executable, script, "photon", args,
                      os.path.join(a.out, f"{stem}_photon.json"), photon_env())
    ray = {}
    if a.compare_ray:
        ray = run_json(ray_python(), script, "ray", args, os.path.join(a.out, f"{stem}_ray.json"),
                       ray_env())
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    m = machine()
    begin, end = f"<!-- {name}-bench:begin -->", f"<!-- {name}-bench:end -->"
    text = "\n".join([
        begin,
        f"Produced by `make {target}` (`python bench/{name}_compare.py --compare-ray"
        f"{' --quick' if a.quick else ''}`) on {date}"
        + (" — QUICK, not a measurement" if a.quick else "") + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB. {setup}",
        "",
        library_table(rows, photon, ray),
        end])
    print(text)
    if a.compare_ray and not a.quick:
        write_doc(text, begin, end)
        with open(os.path.join(ROOT, "docs", f"benchmarks-{name}.json"), "w") as f:
            json.dump({"date": date, "machine": m, "photon": photon, "ray": ray}, f, indent=1)
    return 0


def run_scalability(python, backend, out, sizes, env):
    path = os.path.join(out, f"scalability_{backend}.json")
    cmd = [python, os.path.join(ROOT, "bench", "scalability.py"), "--backend", backend,
           "--sizes", sizes, "--json", path]
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    with open(path) as f:
        return json.load(f)["runs"]


def scalability_table(photon, ray):
    by_ray = {(r["shape"], r["size"]): r for r in ray}

    def cell(r, key, f="{:,.2f}"):
        if r is None:
            return "—"
        if "error" in r:
            return "failed"
        return f.format(r[key])

    lines = ["| shape | size | Ray s | Photon s | Ray / Photon time | Ray driver MiB | "
             "Photon driver MiB | Ray GCS MiB | Photon GCS MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in photon:
        o = by_ray.get((r["shape"], r["size"]))
        both = o and "error" not in o and "error" not in r
        ratio = f"{o['seconds'] / r['seconds']:.2f}×" if both and r["seconds"] > 0 else "—"
        lines.append(f"| {r['shape']} | {r['size']:,} | {cell(o, 'seconds')} | "
                     f"{cell(r, 'seconds')} | {ratio} | {cell(o, 'driver_rss_mib', '{:,.0f}')} | "
                     f"{cell(r, 'driver_rss_mib', '{:,.0f}')} | {cell(o, 'gcs_rss_mib', '{:,.0f}')} | "
                     f"{cell(r, 'gcs_rss_mib', '{:,.0f}')} |")
    return "\n".join(lines)


def extras_table(photon, ray):
    """The figures a shape reports beside its time (idle CPU, shutdown, ...)."""
    by_ray = {(r["shape"], r["size"]): r for r in ray}
    def cell(run, key):
        v = (run or {}).get("extra", {}).get(key)
        return "—" if v is None else f"{v:,.2f}"

    lines = ["| shape | size | figure | Ray | Photon |", "|---|---|---|---|---|"]
    for r in photon:
        o = by_ray.get((r["shape"], r["size"]))
        keys = dict.fromkeys(list(r.get("extra", {})) + list((o or {}).get("extra", {})))
        for k in keys:
            lines.append(f"| {r['shape']} | {r['size']:,} | {k} | {cell(o, k)} | {cell(r, k)} |")
    return "\n".join(lines)


def plot(photon, ray, folder):
    """One PNG per shape: seconds against size, log-log, Photon and Ray."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    made = []
    for shape in sorted({r["shape"] for r in photon}):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for label, runs in (("Photon", photon), ("Ray", ray)):
            pts = sorted((r["size"], r["seconds"]) for r in runs
                         if r["shape"] == shape and "error" not in r)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("size")
        ax.set_ylabel("seconds")
        ax.set_title(f"scalability: {shape}")
        ax.legend()
        fig.tight_layout()
        name = f"scalability-{shape}.png"
        fig.savefig(os.path.join(folder, name))
        plt.close(fig)
        made.append(name)
    return made


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--compare-ray", action="store_true")
    p.add_argument("--quick", action="store_true", help="development only")
    p.add_argument("--scalability", choices=["none", "small", "full"], default="full",
                   help="the scalability envelope's sizes (none: skip it)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    env = photon_env()
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "quick": a.quick}
    if a.compare_ray:
        result["ray"] = run_python(ray_python(), "ray", a.out, a.quick, ray_env())
    result["photon"] = run_python(sys.executable, "photon", a.out, a.quick, env)
    result["photon"]["results"] += run_cpp(a.quick, env)
    if a.scalability != "none":
        if a.compare_ray:
            result["ray_scalability"] = run_scalability(ray_python(), "ray", a.out,
                                                        a.scalability, ray_env())
        result["photon_scalability"] = run_scalability(sys.executable, "photon", a.out,
                                                       a.scalability, env)
    with open(os.path.join(a.out, "microbenchmarks.json"), "w") as f:
        json.dump(result, f, indent=1)
    photon_rows = result["photon"]["results"]
    ray_rows = result.get("ray", {}).get("results", [])
    base = [r for r in photon_rows if r["name"] in BASELINES]
    body = table([r for r in photon_rows if r["name"] not in BASELINES], ray_rows)
    m = result["machine"]
    plots = []
    if a.scalability != "none":
        folder = os.path.join(ROOT, "docs", "images") if a.compare_ray and not a.quick else a.out
        plots = plot(result["photon_scalability"], result.get("ray_scalability", []), folder)
    text = "\n".join([
        BEGIN,
        f"Produced by `make bench-compare` on {result['date']}"
        + (" — QUICK RUN, not a measurement" if a.quick else "") + ".",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']},"
        f" Python {m['python']}; Ray {result.get('ray', {}).get('version', '?')}."
        " Each Python metric: a warm-up, then 4 rounds of ≥ 2 s, mean ± std of the rounds"
        " (ray_perf.py's method); `cpp_` rows are the C++ API (best of its repetitions).",
        "",
        "Baselines measured in the same run: " + ", ".join(
            f"{r['name']} {r['mean']:,.1f} {r['unit']}" for r in base) + ".",
        "",
        body] + ([
        "",
        f"Scalability envelope (bench/scalability.py, sizes `{a.scalability}`): a fresh local"
        " cluster per run; seconds for the whole shape, the driver's peak RSS and the GCS's RSS"
        " at the end. `nodes`: raylets on this host, seconds until all are alive; `broadcast`:"
        " size MiB in one object read by a task on each of 4 nodes; `idle`: seconds of"
        " `init()`, then the cluster idles for size seconds.",
        "",
        scalability_table(result["photon_scalability"], result.get("ray_scalability", [])),
        "",
        "Other figures of those runs (`idle_cpu_pct`: CPU of every process of the idle local"
        " cluster, % of one core; `cluster_rss_mib`: their RSS; `gcs_idle_cpu_pct`: the GCS"
        " of an idle n-node cluster):",
        "",
        extras_table(result["photon_scalability"], result.get("ray_scalability", [])),
        "",
        " ".join(f"![{n}](images/{n})" for n in plots),
    ] if a.scalability != "none" else []) + [END])
    print(text)
    if a.compare_ray and not a.quick:
        write_doc(text)
        with open(os.path.join(ROOT, "docs", "benchmarks.json"), "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
