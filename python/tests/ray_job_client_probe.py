"""Run by test_job_submission.py with an interpreter that has Ray: Ray's own
JobSubmissionClient against Photon's dashboard (argv: URL, token). Prints one
line per check; exits non-zero on the first that fails."""
import asyncio
import os
import sys
import tempfile
import time

from ray.job_submission import JobStatus, JobSubmissionClient


def wait(client, sid, done):
    deadline = time.time() + 60
    while client.get_job_status(sid) not in done:
        assert time.time() < deadline, client.get_job_info(sid)
        time.sleep(0.3)
    return client.get_job_status(sid)


def main(url, token):
    c = JobSubmissionClient(url, headers={"Authorization": f"Bearer {token}"})
    wd = tempfile.mkdtemp()
    with open(os.path.join(wd, "hello.py"), "w") as f:
        f.write("print('hello from a ray client working_dir')\n")
    sid = c.submit_job(entrypoint="python hello.py", runtime_env={"working_dir": wd},
                       metadata={"k": "v"})
    assert wait(c, sid, {JobStatus.SUCCEEDED, JobStatus.FAILED}) == JobStatus.SUCCEEDED
    assert c.get_job_info(sid).metadata == {"k": "v"}
    assert "hello from a ray client working_dir" in c.get_job_logs(sid)
    assert sid in [j.submission_id for j in c.list_jobs()]
    print("submit, status, logs, list: ok")
    sid = c.submit_job(entrypoint="sleep 60")
    wait(c, sid, {JobStatus.RUNNING})
    assert c.stop_job(sid)
    assert wait(c, sid, {JobStatus.STOPPED}) == JobStatus.STOPPED
    assert c.delete_job(sid)
    print("stop, delete: ok")

    async def tail():
        sid = c.submit_job(entrypoint="echo tail1; sleep 0.5; echo tail2")
        return "".join([chunk async for chunk in c.tail_job_logs(sid)])

    assert "tail2" in asyncio.run(tail())
    print("tail: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
