// The process's connection to a cluster: the one global state of photon._photon.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "bindings.h"

namespace photon::python {
namespace {

absl::Mutex g_mu;
Connection* g_connection ABSL_GUARDED_BY(g_mu) = nullptr;

}  // namespace

void SetConnection(std::unique_ptr<Connection> c) {
  absl::MutexLock lock(&g_mu);
  if (g_connection != nullptr) throw std::runtime_error("already connected");
  g_connection = c.release();
}

std::unique_ptr<Connection> TakeConnection() {
  absl::MutexLock lock(&g_mu);
  std::unique_ptr<Connection> c(g_connection);
  g_connection = nullptr;
  return c;
}

std::shared_ptr<core::CoreWorker> WorkerIfConnected() {
  absl::MutexLock lock(&g_mu);
  if (g_connection == nullptr) return nullptr;
  return g_connection->worker;
}

std::shared_ptr<core::CoreWorker> CurrentWorker() {
  auto w = WorkerIfConnected();
  if (w == nullptr) throw std::runtime_error("Photon is not initialized: call photon.init() first");
  return w;
}

bool Connected() {
  absl::MutexLock lock(&g_mu);
  return g_connection != nullptr;
}

}  // namespace photon::python
