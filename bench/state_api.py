"""State API latency: list_tasks and summarize_tasks with N finished tasks in the
task table, Photon and Ray side by side.

    PYTHONPATH=python:build/python python3 bench/state_api.py --backend photon
    /tmp/rayvenv/bin/python bench/state_api.py --backend ray

For each size, submits N no-op tasks (in batches), waits until the state API shows
them all FINISHED, then times list_tasks() (the default limit of 100),
list_tasks(limit=10000) and summarize_tasks(), each --repeat times (median, seconds).
Ray caps a list at 10,000 rows, so that is the largest limit both can answer, and
its summaries count at most 10,000 tasks (Photon's count the whole table); every call
passes raise_on_missing_output=False, which Ray needs past 10,000."""
import argparse
import statistics
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", choices=["photon", "ray"], default="photon")
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    if a.backend == "ray":
        import ray
        from ray.util.state import list_tasks, summarize_tasks
    else:
        import photon as ray
        from photon.util.state import list_tasks, summarize_tasks
    import warnings
    warnings.simplefilter("ignore")
    ray.init(num_cpus=2)

    @ray.remote
    def noop():
        return None

    done = 0
    for size in [int(s) for s in a.sizes.split(",")]:
        t0 = time.monotonic()
        while done < size:
            n = min(10000, size - done)
            ray.get([noop.remote() for _ in range(n)])
            done += n
        submit_s = time.monotonic() - t0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            s = summarize_tasks(raise_on_missing_output=False)["cluster"]["summary"]
            finished = sum(v["state_counts"].get("FINISHED", 0) for k, v in s.items()
                           if k.endswith("noop"))
            # Ray's summaries stop at 10,000 tasks.
            if finished >= (size if a.backend == "photon" else min(size, 10000)):
                break
            time.sleep(1)

        def timed(fn):
            runs = []
            for _ in range(a.repeat):
                t = time.monotonic()
                fn()
                runs.append(time.monotonic() - t)
            return statistics.median(runs)

        default = timed(lambda: list_tasks(raise_on_missing_output=False))
        big = timed(lambda: list_tasks(limit=10000, raise_on_missing_output=False))
        summary = timed(lambda: summarize_tasks(raise_on_missing_output=False))
        print(f"{a.backend} tasks={size}: ran in {submit_s:.1f} s; list_tasks() {default:.3f} s, "
              f"list_tasks(limit=10000) {big:.3f} s, summarize_tasks() {summary:.3f} s",
              flush=True)
    ray.shutdown()


if __name__ == "__main__":
    main()
