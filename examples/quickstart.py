"""Photon's Python API is Ray's: this program runs unchanged with `import ray`.

    PYTHONPATH=python:build/python python3 examples/quickstart.py
"""
import numpy as np

import photon as ray


@ray.remote
def square(x):
    return x * x


@ray.remote
class Counter:
    def __init__(self):
        self.n = 0

    def incr(self, k=1):
        self.n += k
        return self.n


def main():
    ray.init(num_cpus=2)
    print("squares:", ray.get([square.remote(i) for i in range(8)]))
    counter = Counter.remote()
    print("counter:", ray.get([counter.incr.remote() for _ in range(3)]))
    big = ray.put(np.arange(10_000_000))  # stored once in shared memory
    print("sum of a 80 MB array, zero-copy:", int(ray.get(big).sum()))
    ray.shutdown()


if __name__ == "__main__":
    main()
