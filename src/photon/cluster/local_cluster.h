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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "photon/common/config.h"

namespace photon {

struct NodeArgs {
  double num_cpus = -1;  // < 0: the machine's core count
  double num_gpus = 0;
  std::map<std::string, double> resources;
  std::map<std::string, std::string> labels;  // keys and values without ',' or '='
  int64_t object_store_memory = 0;
  int metrics_export_port = 0;  // the node's /metrics endpoint; 0: any free port
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
  // The cluster token (rpc/auth.h). Start: empty makes a new one. Attach:
  // empty finds the one of the cluster's session folder on this host.
  std::string token;
  // false: the daemons require no token (auth_mode=disabled). Unset: as
  // PHOTON_AUTH_MODE of this process says (default: true).
  std::optional<bool> authenticate;
  // Redis (host:port) for the GCS's tables: a GCS restarted by StartGcs
  // recovers the cluster. Empty: the redis_address setting of the GCS's
  // environment (default: in memory).
  std::string redis_address;
  std::string redis_password;
};

// ClusterOptions' token and authenticate from the settings auth_mode and
// cluster_token; InvalidArgument for an unknown auth_mode.
absl::StatusOr<ClusterOptions> ClusterOptionsFromConfig(const SystemConfig& config);

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
  // Start and Attach write the token to <session>/cluster_token (0600) and
  // make it the one this process presents (rpc::SetClusterToken).

  // Forgets the processes without stopping them (for `photon start`).
  void Detach();
  ~LocalCluster();

  absl::StatusOr<NodeProcess> AddNode(const NodeArgs& args);
  // Stops a raylet gracefully (SIGTERM) or kills it (SIGKILL, like a crash).
  void RemoveNode(const NodeProcess& node, bool kill = false);
  // Kills the GCS with SIGKILL, like a crash (the raylets keep running).
  void KillGcs();
  // Starts the GCS again on the address it had (after KillGcs). With Redis
  // it recovers the cluster; without, it is a new, empty one.
  absl::Status StartGcs();
  // Stops every raylet, then the GCS. Idempotent.
  void Shutdown();

  const std::string& gcs_address() const { return gcs_address_; }
  const std::string& session_dir() const { return session_dir_; }
  // The cluster token ("" when authentication is off).
  const std::string& token() const { return token_; }
  pid_t gcs_pid() const { return gcs_pid_; }
  const std::vector<NodeProcess>& nodes() const { return nodes_; }

 private:
  LocalCluster() = default;
  absl::Status MakeSessionDir(const std::string& session_root);
  // Starts photon-gcs on `port` (0: any) and waits until it serves.
  absl::Status SpawnGcs(int port);
  // Records the token and the GCS address in the session folder.
  absl::Status RecordToken();
  // The environment the daemons get on top of ours: the token and auth mode.
  std::map<std::string, std::string> DaemonEnv() const;
  ClusterOptions options_;
  std::string bin_dir_;
  std::string session_dir_;
  std::string gcs_address_;
  std::string token_;
  pid_t gcs_pid_ = 0;
  std::vector<NodeProcess> nodes_;
  int next_node_ = 0;
};

// The token of the cluster whose GCS is at `gcs_address`: the one this
// process started or attached to at that address, else the one in the
// session folder (under `session_root`) of a `photon start` or local cluster
// on this host: the newest session that recorded that address, else the
// newest that recorded its port. NotFound if there is none.
absl::StatusOr<std::string> FindClusterToken(const std::string& session_root,
                                             const std::string& gcs_address);

// The folder holding Photon's daemons: PHOTON_BIN_DIR if set, else found next
// to the library or executable this code is in (<lib>/../bin, <pkg>/_bin).
absl::StatusOr<std::string> FindBinDir(const std::string& configured);

}  // namespace photon
