"""Ctrl-C in a driver blocked in get interrupts it (KeyboardInterrupt)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

DRIVER = textwrap.dedent("""
    import time
    import photon as ray
    ray.init(num_cpus=1)

    @ray.remote
    def slow():
        time.sleep(60)

    ref = slow.remote()
    print("blocked", flush=True)
    try:
        ray.get(ref)
        print("returned", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    ray.shutdown()
""")


def test_ctrl_c_interrupts_a_blocked_get():
    proc = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout.readline().strip() == "blocked"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert "interrupted" in out, err
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
