// Cost of deriving and hashing IDs, which sits on every task submission.
#include <benchmark/benchmark.h>

#include "absl/container/flat_hash_set.h"
#include "photon/common/id.h"

namespace photon {
namespace {

void BM_DeriveTaskId(benchmark::State& state) {
  JobID job = JobID::FromParts(0, 1);
  TaskID parent = TaskID::ForDriverTask(job);
  uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(TaskID::ForNormalTask(job, parent, ++i));
}
BENCHMARK(BM_DeriveTaskId);

void BM_HashObjectId(benchmark::State& state) {
  ObjectID id = ObjectID::FromRandom();
  for (auto _ : state) benchmark::DoNotOptimize(id.Hash());
}
BENCHMARK(BM_HashObjectId);

void BM_ObjectIdSetInsert(benchmark::State& state) {
  for (auto _ : state) {
    absl::flat_hash_set<ObjectID> set;
    for (int i = 0; i < 1000; ++i) set.insert(ObjectID::FromRandom());
    benchmark::DoNotOptimize(set.size());
  }
}
BENCHMARK(BM_ObjectIdSetInsert);

}  // namespace
}  // namespace photon
