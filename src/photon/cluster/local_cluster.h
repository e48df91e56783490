// Starting and stopping the daemons of a cluster on this machine: the private
// local cluster of photon::Init() with no address, and the multi-node test
// clusters of photon::testing / photon.cluster_utils.Cluster (one GCS and any
// number of raylets, each with its own port, resources and store).
//
// Every process started here is a child of this process, dies with it
// (PR_SET_PDEATHSIG), and is stopped by Shutdown (or the destructor).
// Thread-compatible: call from one thread.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace photon {

struct NodeArgs {
  double num_cpus = -1;  // < 0: the machine's core count
  double num_gpus = 0;
  std::map<std::string, double> resources;
  std::map<std::string, std::string> labels;  // keys and values without ',' or '='
  int64_t object_store_memory = 0;
  bool head = false;  // the cluster's first node (set by Start): gets node:__internal_head__
};

struct NodeProcess {
  pid_t pid = 0;
  int port = 0;
  std::string node_id_hex;
  std::string address;  // host:port of the raylet
};

struct ClusterOptions {
  // Children die with this process (private clusters, tests). The `photon
  // start` command turns this off so its daemons outlive it.
  bool die_with_parent = true;
  int gcs_port = 0;                // 0: any free port
  std::string host = "127.0.0.1";  // interface the daemons listen on
};

class LocalCluster {
 public:
  // Starts a GCS and (if `head` is set) a first raylet in a new session folder
  // under `session_root`. `bin_dir` holds photon-gcs and photon-raylet.
  // Fails with a message naming the daemon that did not come up and its log.
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(const std::string& bin_dir,
                                                             const std::string& session_root,
                                                             const NodeArgs* head,
                                                             const ClusterOptions& options = {});
  // For adding raylets to an existing cluster whose GCS is at `gcs_address`.
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Attach(const std::string& bin_dir,
                                                              const std::string& session_root,
                                                              const std::string& gcs_address,
                                                              const ClusterOptions& options = {});
  // Forgets the processes without stopping them (for `photon start`).
  void Detach();
  ~LocalCluster();

  absl::StatusOr<NodeProcess> AddNode(const NodeArgs& args);
  // Stops a raylet gracefully (SIGTERM) or kills it (SIGKILL, like a crash).
  void RemoveNode(const NodeProcess& node, bool kill = false);
  // Stops every raylet, then the GCS. Idempotent.
  void Shutdown();

  const std::string& gcs_address() const { return gcs_address_; }
  const std::string& session_dir() const { return session_dir_; }
  pid_t gcs_pid() const { return gcs_pid_; }
  const std::vector<NodeProcess>& nodes() const { return nodes_; }

 private:
  LocalCluster() = default;
  absl::Status MakeSessionDir(const std::string& session_root);
  ClusterOptions options_;
  std::string bin_dir_;
  std::string session_dir_;
  std::string gcs_address_;
  pid_t gcs_pid_ = 0;
  std::vector<NodeProcess> nodes_;
  int next_node_ = 0;
};

// The folder holding Photon's daemons: PHOTON_BIN_DIR if set, else found next
// to the library or executable this code is in (<lib>/../bin, <pkg>/_bin).
absl::StatusOr<std::string> FindBinDir(const std::string& configured);

}  // namespace photon
