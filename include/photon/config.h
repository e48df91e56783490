// photon::Config: how photon::Init starts or joins a cluster.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace photon {

struct Config {
  // GCS address ("host:port") of an existing cluster. Empty: PHOTON_ADDRESS if
  // set, else Init starts a private local cluster (a GCS and one raylet).
  std::string address;
  // For a local cluster: CPUs of its node (default: the machine's core count)
  // and custom resources. Rejected when joining an existing cluster.
  std::optional<double> num_cpus;
  std::unordered_map<std::string, double> resources;
  // For a local cluster: object store size in bytes (0: the configured default).
  int64_t object_store_memory = 0;
  // Namespace of the job's named actors; empty gives a random one.
  std::string ray_namespace;
  // trace, debug, info, warn, error, critical or off; empty: PHOTON_LOG_LEVEL.
  std::string log_level;
  // Shared libraries (or folders of them) holding remote functions for
  // workers to load, as in Ray's code_search_path. Empty: workers run the
  // driver's own executable.
  std::vector<std::string> code_search_path;
};

}  // namespace photon
