// Helper driver for faults_test (LogToDriver): starts a local cluster, runs
// tasks that print to stdout and stderr, and lets log_to_driver forward their
// output to this process's console, which the test captures.
// Usage: runtime_log_driver <token>
#include <photon/api.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

int Echo(std::string token) {
  std::printf("echo-line %s\n", token.c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "echo-err %s\n", token.c_str());
  std::fflush(stderr);
  return static_cast<int>(getpid());
}

PHOTON_REMOTE(Echo);

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("PHOTON_RAYLET_ADDRESS") != nullptr) photon::Init();  // a worker
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <token>\n", argv[0]);
    return 2;
  }
  std::string token = argv[1];
  try {
    photon::Config config;
    config.num_cpus = 1;
    photon::Init(config);
    int pid = *photon::Task(Echo).Remote(token).Get(30000);
    std::printf("helper: pid %d\n", pid);
    std::fflush(stdout);
    photon::Task(Echo).SetName("named-echo").Remote("second-" + token).Get(30000);
    // Task output reaches the driver asynchronously (raylet log monitor -> GCS -> driver).
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    photon::Shutdown();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "helper: %s\n", e.what());
    photon::Shutdown();
    return 1;
  }
  return 0;
}
