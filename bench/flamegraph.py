"""Flame graphs of one microbenchmark metric: runs it under `perf record`
(cpu-clock samples with DWARF call chains, every process of the cluster:
the driver, its workers, the raylet and the GCS), folds the stacks and draws
an SVG (one column per process kind, roots on top, callees below; the width of a frame its share of the
samples; hover a frame for its name and count).

    python bench/flamegraph.py --metric 1_1_actor_calls [--out F.svg] [--quick]

Needs `perf` (Debian's linux-perf). The hardware cycle counter is often not
available in a VM; cpu-clock is.
"""
import argparse
import collections
import html
import os
import re
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kind_of(comm, pid, driver_pids):
    if "photon-gcs" in comm or comm.startswith("gcs"):
        return "gcs"
    if "photon-raylet" in comm or comm.startswith("raylet"):
        return "raylet"
    return "driver" if pid in driver_pids else "worker"


def fold(perf_script_text, driver_pids):
    """{(kind, frame, frame, ...) root first: samples} from `perf script`
    output with call chains: a header line "comm pid/tid" and then one
    "ip symbol (dso)" line per frame, innermost first; a blank line ends it."""
    stacks = collections.Counter()
    header = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s*$")
    frame = re.compile(r"^\s+[0-9a-f]+\s+(.*?)\s*(?:\(([^()]*)\))?\s*$")
    kind, frames = None, []
    for line in perf_script_text.splitlines() + [""]:
        if not line.strip():
            if kind is not None:
                stacks[tuple([kind] + frames[::-1])] += 1
            kind, frames = None, []
            continue
        m = header.match(line)
        if m and kind is None:
            kind = kind_of(m.group(1), int(m.group(2)), driver_pids)
            continue
        m = frame.match(line)
        if m and kind is not None:
            sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            if sym in ("", "[unknown]"):
                sym = f"[{os.path.basename(m.group(2) or 'unknown')}]"
            frames.append(sym[:160])
    return stacks


def render(stacks, title, width=1400, row=16):
    tree = {}
    for stack, n in stacks.items():
        node = tree
        for f in stack:
            node = node.setdefault(f, {"n": 0, "c": {}})
            node["n"] += n
            node = node["c"]
    total = sum(stacks.values()) or 1
    rects = []

    def depth_of(node):
        return 1 + max((depth_of(c["c"]) for c in node.values()), default=0)

    depth = depth_of(tree)

    def walk(node, x, level):
        for name, c in sorted(node.items()):
            w = c["n"] / total * (width - 20)
            if w >= 1.0:
                rects.append((x, level, w, name, c["n"]))
                walk(c["c"], x, level + 1)
            x += w

    walk(tree, 10.0, 0)
    height = (depth + 3) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
           f'<text x="10" y="{row}" font-size="14">{html.escape(title)} '
           f'({total} samples)</text>']
    for x, level, w, name, n in rects:
        y = (level + 2) * row  # roots on top (an icicle): the widest frames show first
        hue = zlib.crc32(name.split("::")[0].encode()) % 40 + 10
        label = html.escape(name)
        text = ""
        if w > 30:
            chars = int(w / 6.6)
            shown = name if len(name) <= chars else name[:max(chars - 2, 1)] + ".."
            text = f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(shown)}</text>'
        out.append(f'<g><title>{label}: {n} samples, {n / total * 100:.1f}%</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                   f'fill="hsl({hue},85%,60%)"/>{text}</g>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--metric", required=True,
                   help="a group of python_microbenchmark.py (its --only), e.g. 1_1_actor_calls")
    p.add_argument("--out", default="")
    p.add_argument("--frequency", type=int, default=199)
    p.add_argument("--quick", action="store_true", help="the metric's quick form (fewer samples)")
    a = p.parse_args()
    out = a.out or os.path.join(ROOT, "bench", "results", f"flame-{a.metric}.svg")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        pidfile = os.path.join(tmp, "driver.pid")
        # The driver writes its pid so its samples can be told from its workers'.
        driver = (f"import os,runpy,sys; open({pidfile!r},'w').write(str(os.getpid())); "
                  f"sys.argv=['python_microbenchmark.py'] + {['--quick'] if a.quick else []!r} + "
                  f"['--only',{a.metric!r}]; "
                  f"runpy.run_path({os.path.join(ROOT, 'bench', 'python_microbenchmark.py')!r},"
                  f" run_name='__main__')")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.join(ROOT, "python"), os.path.join(ROOT, "build", "python")] +
            ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(a.frequency),
                        "--call-graph", "dwarf,8192", "-o", data, "--", sys.executable, "-c",
                        driver], check=True, cwd=ROOT, env=env)
        script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,pid,tid,ip,sym,dso"],
                                capture_output=True, text=True, check=True).stdout
        driver_pids = {int(open(pidfile).read())}
    stacks = fold(script, driver_pids)
    with open(out, "w") as f:
        f.write(render(stacks, f"{a.metric}: CPU samples by process kind"))
    print(f"wrote {out} ({sum(stacks.values())} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
