"""`photon job submit|status|logs|stop|list|delete` (Ray's `ray job ...`)."""
import argparse
import asyncio
import json
import sys
import time

from photon.dashboard.modules.job.common import JobStatus
from photon.dashboard.modules.job.sdk import JobSubmissionClient

_POLL_S = 0.5


def _client(args):
    return JobSubmissionClient(args.address)


def _runtime_env(args):
    env = {}
    if args.runtime_env:
        with open(args.runtime_env) as f:
            text = f.read()
        try:
            env = json.loads(text)
        except ValueError:
            import yaml  # a YAML file, as Ray accepts

            env = yaml.safe_load(text)
    if args.runtime_env_json:
        try:
            env = json.loads(args.runtime_env_json)
        except ValueError as e:
            raise SystemExit(f"photon job submit: --runtime-env-json is not JSON: {e}")
    if args.working_dir:
        env["working_dir"] = args.working_dir
    return env or None


def _follow(client, sid):
    async def run():
        async for chunk in client.tail_job_logs(sid):
            sys.stdout.write(chunk)
            sys.stdout.flush()

    asyncio.run(run())


def _final(client, sid):
    status = client.get_job_status(sid)
    while not status.is_terminal():
        time.sleep(_POLL_S)
        status = client.get_job_status(sid)
    info = client.get_job_info(sid)
    if status == JobStatus.SUCCEEDED:
        print(f"\n------------------------------------------\nJob '{sid}' succeeded\n"
              "------------------------------------------")
        return 0
    if status == JobStatus.STOPPED:
        print(f"Job '{sid}' was stopped")
        return 1
    print(f"\n--------------------------------------\nJob '{sid}' failed\n"
          f"--------------------------------------\nStatus message: {info.message}")
    return 1


def submit(args):
    cmd = list(args.entrypoint)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise SystemExit("photon job submit: give the entrypoint after --, e.g. "
                         "photon job submit -- python script.py")
    entrypoint = " ".join(cmd)
    client = _client(args)
    resources = json.loads(args.entrypoint_resources) if args.entrypoint_resources else None
    metadata = json.loads(args.metadata_json) if args.metadata_json else None
    sid = client.submit_job(entrypoint=entrypoint, submission_id=args.submission_id,
                            runtime_env=_runtime_env(args), metadata=metadata,
                            entrypoint_num_cpus=args.entrypoint_num_cpus,
                            entrypoint_num_gpus=args.entrypoint_num_gpus,
                            entrypoint_memory=args.entrypoint_memory,
                            entrypoint_resources=resources)
    print(f"Job '{sid}' submitted successfully")
    if args.no_wait:
        print(f"Query the status of the job:  photon job status {sid}\n"
              f"Query the logs of the job:    photon job logs {sid}\n"
              f"Request the job to be stopped: photon job stop {sid}")
        return 0
    print(f"Tailing logs until the job exits (disable with --no-wait):")
    _follow(client, sid)
    return _final(client, sid)


def status(args):
    client = _client(args)
    info = client.get_job_info(args.job_id)
    print(f"Status for job '{args.job_id}': {info.status.value}")
    if info.message:
        print(f"Status message: {info.message}")
    return 0


def logs(args):
    client = _client(args)
    if args.follow:
        _follow(client, args.job_id)
    else:
        sys.stdout.write(client.get_job_logs(args.job_id))
    return 0


def stop(args):
    client = _client(args)
    print(f"Attempting to stop job '{args.job_id}'")
    client.stop_job(args.job_id)
    if args.no_wait:
        return 0
    while not client.get_job_status(args.job_id).is_terminal():
        time.sleep(_POLL_S)
    print(f"Job '{args.job_id}' was stopped")
    return 0


def list_jobs(args):
    client = _client(args)
    jobs = [j.to_dict() for j in client.list_jobs()]
    if args.format == "json":
        print(json.dumps(jobs, indent=2))
        return 0
    cols = ("submission_id", "job_id", "type", "status", "entrypoint")
    rows = [[str(j.get(c) if j.get(c) is not None else "") for c in cols] for j in jobs]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(cols)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    return 0


def delete(args):
    client = _client(args)
    client.delete_job(args.job_id)
    print(f"Job '{args.job_id}' deleted successfully")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="photon job", description="Submit and manage jobs")
    sub = p.add_subparsers(dest="command", required=True)

    def with_address(sp):
        sp.add_argument("--address", default=None,
                        help="the dashboard's address (default: RAY_ADDRESS if it is an http "
                             "URL, else this host's cluster)")
        return sp

    s = with_address(sub.add_parser("submit", help="Submit a job"))
    s.add_argument("--submission-id", "--job-id", dest="submission_id", default=None)
    s.add_argument("--runtime-env", default=None, help="a JSON or YAML file of the runtime_env")
    s.add_argument("--runtime-env-json", default=None)
    s.add_argument("--working-dir", default=None)
    s.add_argument("--metadata-json", default=None)
    s.add_argument("--entrypoint-num-cpus", type=float, default=None)
    s.add_argument("--entrypoint-num-gpus", type=float, default=None)
    s.add_argument("--entrypoint-memory", type=int, default=None)
    s.add_argument("--entrypoint-resources", default=None, help='JSON, e.g. {"custom": 1}')
    s.add_argument("--no-wait", action="store_true")
    s.add_argument("entrypoint", nargs=argparse.REMAINDER)
    s.set_defaults(fn=submit)
    for name, fn, help_text in (("status", status, "Show a job's status"),
                                ("delete", delete, "Delete a job that ended")):
        sp = with_address(sub.add_parser(name, help=help_text))
        sp.add_argument("job_id")
        sp.set_defaults(fn=fn)
    sp = with_address(sub.add_parser("logs", help="Print a job's output"))
    sp.add_argument("job_id")
    sp.add_argument("-f", "--follow", action="store_true")
    sp.set_defaults(fn=logs)
    sp = with_address(sub.add_parser("stop", help="Stop a job"))
    sp.add_argument("job_id")
    sp.add_argument("--no-wait", action="store_true")
    sp.set_defaults(fn=stop)
    sp = with_address(sub.add_parser("list", help="List the cluster's jobs"))
    sp.add_argument("--format", choices=("table", "json"), default="table")
    sp.set_defaults(fn=list_jobs)
    return p


def main(argv):
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except (RuntimeError, ValueError, ConnectionError, TypeError) as e:
        print(f"photon job {args.command}: {e}", file=sys.stderr)
        return 1
