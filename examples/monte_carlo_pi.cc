// Estimates pi by Monte Carlo sampling across many Photon tasks, then
// aggregates the partial counts in one more task. Run it with no arguments:
// it starts a private local cluster, uses it and stops it.
#include <photon/api.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <set>
#include <vector>

struct Partial {
  int64_t inside = 0;
  int64_t total = 0;
  int pid = 0;
  MSGPACK_DEFINE(inside, total, pid);
};

// Samples `n` points in the unit square; counts those inside the quarter circle.
Partial Sample(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Partial p;
  for (int64_t i = 0; i < n; ++i) {
    double x = u(rng), y = u(rng);
    p.inside += (x * x + y * y <= 1.0);
  }
  p.total = n;
  p.pid = static_cast<int>(getpid());
  return p;
}

// Adds up partial counts.
Partial Combine(std::vector<Partial> parts) {
  Partial sum;
  for (const auto& p : parts) {
    sum.inside += p.inside;
    sum.total += p.total;
  }
  sum.pid = static_cast<int>(getpid());
  return sum;
}

PHOTON_REMOTE(Sample, Combine);

int main(int argc, char** argv) {
  photon::Init(photon::Config{}, argc, argv);
  constexpr int kTasks = 64;
  constexpr int64_t kSamplesPerTask = 2'000'000;
  auto start = std::chrono::steady_clock::now();
  std::vector<photon::ObjectRef<Partial>> refs;
  for (int i = 0; i < kTasks; ++i) {
    refs.push_back(photon::Task(Sample).Remote(kSamplesPerTask, static_cast<uint64_t>(i + 1)));
  }
  std::vector<Partial> parts;
  std::set<int> pids;
  for (const auto& p : photon::Get(refs)) {
    parts.push_back(*p);
    pids.insert(p->pid);
  }
  auto total = photon::Get(photon::Task(Combine).Remote(parts));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("pi ~= %.6f from %lld samples in %d tasks\n",
              4.0 * static_cast<double>(total->inside) / static_cast<double>(total->total),
              static_cast<long long>(total->total), kTasks);
  std::printf("%zu worker processes did the sampling (driver pid %d); took %.2f s\n", pids.size(),
              static_cast<int>(getpid()), seconds);
  photon::Shutdown();
  return 0;
}
