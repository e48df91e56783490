// A second driver for actors_test: joins the cluster at the GCS address given on its
// command line, works with actors by name, prints what it saw ("helper: ..." lines) and
// exits. Its workers (a detached actor it creates) run this executable again.
//
//   actors_driver_helper call <gcs_address> <namespace> <name> <x>
//       GetActor<Counter>(name, namespace), then Add(x): prints "helper: add -> <value>"
//       and "helper: pid <actor pid>"; exit code 3 if there is no such actor.
//   actors_driver_helper create-detached <gcs_address> <namespace> <detached_name>
//                        <control_name> <start>
//       Creates a DETACHED actor named <detached_name> and a normal (non-detached) one named
//       <control_name>, both Counter(start) in <namespace>; calls Add(1) on each; prints
//       "helper: detached pid <pid>" and "helper: control pid <pid>", then exits (the
//       control actor dies with this job, the detached one lives on).
#include <photon/api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "shared_actors.h"

namespace {

using actors_test::Counter;

constexpr int kTimeoutMs = 30000;

int Call(const std::string& address, const std::string& ns, const std::string& name, int x) {
  photon::Config config;
  config.address = address;
  photon::Init(config);
  std::optional<photon::ActorHandle<Counter>> counter = photon::GetActor<Counter>(name, ns);
  if (!counter) {
    std::printf("helper: not found\n");
    std::fflush(stdout);
    photon::Shutdown();
    return 3;
  }
  int value = *counter->Task(&Counter::Add).Remote(x).Get(kTimeoutMs);
  int pid = *counter->Task(&Counter::Pid).Remote().Get(kTimeoutMs);
  std::printf("helper: add -> %d\nhelper: pid %d\n", value, pid);
  std::fflush(stdout);
  counter.reset();
  photon::Shutdown();
  return 0;
}

int CreateDetached(const std::string& address, const std::string& ns,
                   const std::string& detached_name, const std::string& control_name, int start) {
  photon::Config config;
  config.address = address;
  config.ray_namespace = ns;
  photon::Init(config);
  actors_test::SubscribeToActorUpdates();  // works around a runtime bug: see shared_actors.h
  {
    photon::ActorHandle<Counter> detached = photon::Actor(Counter::Create)
                                                .SetName(detached_name)
                                                .SetLifetime(photon::ActorLifetime::DETACHED)
                                                .Remote(start);
    photon::ActorHandle<Counter> control =
        photon::Actor(Counter::Create).SetName(control_name).Remote(start);
    int d = *detached.Task(&Counter::Add).Remote(1).Get(kTimeoutMs);
    int c = *control.Task(&Counter::Add).Remote(1).Get(kTimeoutMs);
    int dpid = *detached.Task(&Counter::Pid).Remote().Get(kTimeoutMs);
    int cpid = *control.Task(&Counter::Pid).Remote().Get(kTimeoutMs);
    std::printf("helper: detached add -> %d\nhelper: control add -> %d\n", d, c);
    std::printf("helper: detached pid %d\nhelper: control pid %d\n", dpid, cpid);
    std::fflush(stdout);
  }
  photon::Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (std::getenv("PHOTON_RAYLET_ADDRESS") != nullptr) photon::Init();  // a worker
  try {
    if (argc == 6 && std::strcmp(argv[1], "call") == 0) {
      return Call(argv[2], argv[3], argv[4], std::atoi(argv[5]));
    }
    if (argc == 7 && std::strcmp(argv[1], "create-detached") == 0) {
      return CreateDetached(argv[2], argv[3], argv[4], argv[5], std::atoi(argv[6]));
    }
  } catch (const std::exception& e) {
    std::printf("helper: error: %s\n", e.what());
    std::fflush(stdout);
    photon::Shutdown();
    return 1;
  }
  std::fprintf(stderr,
               "usage: %s call <gcs_address> <namespace> <name> <x>\n"
               "       %s create-detached <gcs_address> <namespace> <detached_name> "
               "<control_name> <start>\n",
               argv[0], argv[0]);
  return 2;
}
