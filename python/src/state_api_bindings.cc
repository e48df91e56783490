// Bindings for the state API (src/photon/state): rows as JSON text, which
// photon.util.state turns into Ray's state objects. Every call releases the
// GIL while the cluster answers.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <list>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "bindings.h"
#include "photon/cluster/local_cluster.h"
#include "photon/rpc/auth.h"
#include "photon/state/state_api.h"

namespace photon::python {
namespace {

// The GCS to read: this process's connection when `address` is empty (or
// names it), else a client of its own for `address` (its token from the
// environment, or the one a cluster on this host recorded).
struct Source {
  std::shared_ptr<core::CoreWorker> worker;
  std::shared_ptr<GcsClient> own;
  SystemConfig config;
  GcsClient* gcs() { return own ? own.get() : &worker->gcs(); }
};

// Clients of GCSes this process is not connected to, kept for the next call
// (the dashboard asks the same GCS many times a second): keyed by address and
// token, the least recently used dropped beyond kMaxCachedClients.
constexpr size_t kMaxCachedClients = 8;
absl::Mutex cache_mu;
std::list<std::pair<std::string, std::shared_ptr<GcsClient>>>& CachedClients()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(cache_mu) {
  static auto* clients = new std::list<std::pair<std::string, std::shared_ptr<GcsClient>>>();
  return *clients;
}

std::shared_ptr<GcsClient> Cached(const std::string& key) ABSL_LOCKS_EXCLUDED(cache_mu) {
  absl::MutexLock lock(&cache_mu);
  auto& clients = CachedClients();
  for (auto it = clients.begin(); it != clients.end(); ++it) {
    if (it->first != key) continue;
    clients.splice(clients.begin(), clients, it);
    return clients.front().second;
  }
  return nullptr;
}

void Cache(const std::string& key, std::shared_ptr<GcsClient> client)
    ABSL_LOCKS_EXCLUDED(cache_mu) {
  absl::MutexLock lock(&cache_mu);
  auto& clients = CachedClients();
  clients.emplace_front(key, std::move(client));
  while (clients.size() > kMaxCachedClients) clients.pop_back();
}

Source Open(const std::string& address) {
  Source src;
  src.config = Check(SystemConfig::FromProcessEnvironment());
  src.worker = WorkerIfConnected();
  if (src.worker != nullptr && (address.empty() || address == src.worker->gcs().address())) {
    // What this process recorded is in the answer, not a report interval later.
    nb::gil_scoped_release release;
    src.worker->FlushTaskEvents();
    return src;
  }
  src.worker.reset();
  if (address.empty()) {
    ThrowStatus(absl::FailedPreconditionError(
        "not connected to a cluster: call photon.init() first, or pass address="));
  }
  std::string token = src.config.auth_mode() == "disabled" ? "" : src.config.cluster_token();
  if (token.empty() && src.config.auth_mode() != "disabled") {
    auto found = FindClusterToken(src.config.session_dir_root(), address);
    if (found.ok()) token = *found;
  }
  rpc::SetClusterToken(token);
  const std::string key = address + "\n" + token;
  src.own = Cached(key);
  if (src.own != nullptr) return src;
  absl::StatusOr<std::unique_ptr<GcsClient>> gcs;
  {
    nb::gil_scoped_release release;
    gcs = GcsClient::Connect(address, src.config);
  }
  src.own = Check(std::move(gcs));
  Cache(key, src.own);
  return src;
}

}  // namespace

void BindStateApi(nb::module_& m) {
  m.def("state_schema", [](const std::string& resource) {
    std::vector<std::tuple<std::string, bool, bool>> out;
    for (const auto& c : Check(state::Schema(resource))) {
      out.emplace_back(c.name, c.detail, c.filterable);
    }
    return out;
  });
  // (rows JSON, total before the limit, warnings, partial failures)
  m.def("state_list",
        [](const std::string& resource,
           const std::vector<std::tuple<std::string, std::string, std::string>>& filters,
           int64_t limit, bool detail, const std::string& address) {
          Source src = Open(address);
          state::ListOptions o;
          for (const auto& [k, op, v] : filters) o.filters.push_back(state::Filter{k, op, v});
          o.limit = limit;
          o.detail = detail;
          absl::StatusOr<state::ListResult> r;
          {
            nb::gil_scoped_release release;
            r = state::StateApi(src.gcs(), src.config).List(resource, o);
          }
          auto got = Check(std::move(r));
          return std::make_tuple(got.rows.dump(), got.total, got.warnings, got.partial_failures);
        });
  // Rows JSON of every match (every attempt of a task), or None if none.
  m.def("state_get",
        [](const std::string& resource, const std::string& id,
           const std::string& address) -> std::optional<std::string> {
          Source src = Open(address);
          absl::StatusOr<nlohmann::json> r;
          {
            nb::gil_scoped_release release;
            r = state::StateApi(src.gcs(), src.config).Get(resource, id);
          }
          if (absl::IsNotFound(r.status())) return std::nullopt;
          return Check(std::move(r)).dump();
        });
  // The GCS's internal key-value store by address (no driver connection
  // needed): what the dashboard and the job client keep there.
  m.def("state_kv_get",
        [](const std::string& ns, nb::bytes key, const std::string& address) -> nb::object {
          Source src = Open(address);
          std::string k(key.c_str(), key.size());
          absl::StatusOr<std::optional<std::string>> v;
          {
            nb::gil_scoped_release release;
            v = src.gcs()->KvGet(ns, k);
          }
          auto r = Check(std::move(v));
          if (!r) return nb::none();
          return Bytes(*r);
        });
  m.def("state_kv_put", [](const std::string& ns, nb::bytes key, nb::bytes value, bool overwrite,
                           const std::string& address) {
    Source src = Open(address);
    std::string k(key.c_str(), key.size()), v(value.c_str(), value.size());
    absl::StatusOr<bool> added;
    {
      nb::gil_scoped_release release;
      added = src.gcs()->KvPut(ns, k, v, overwrite);
    }
    return Check(std::move(added));
  });
  m.def("state_kv_del",
        [](const std::string& ns, nb::bytes key, bool by_prefix, const std::string& address) {
          Source src = Open(address);
          std::string k(key.c_str(), key.size());
          absl::StatusOr<int64_t> n;
          {
            nb::gil_scoped_release release;
            n = src.gcs()->KvDel(ns, k, by_prefix);
          }
          return Check(std::move(n));
        });
  m.def("state_kv_keys", [](const std::string& ns, nb::bytes prefix, const std::string& address) {
    Source src = Open(address);
    std::string p(prefix.c_str(), prefix.size());
    absl::StatusOr<std::vector<std::string>> keys;
    {
      nb::gil_scoped_release release;
      keys = src.gcs()->KvKeys(ns, p);
    }
    std::vector<nb::bytes> out;
    for (const auto& k : Check(std::move(keys))) out.push_back(Bytes(k));
    return out;
  });
  m.def("state_cluster_status", [](const std::string& address) {
    Source src = Open(address);
    absl::StatusOr<nlohmann::json> r;
    {
      nb::gil_scoped_release release;
      r = state::StateApi(src.gcs(), src.config).ClusterStatus();
    }
    return Check(std::move(r)).dump();
  });
  m.def("state_timeline", [](const std::string& address) {
    Source src = Open(address);
    absl::StatusOr<nlohmann::json> r;
    {
      nb::gil_scoped_release release;
      r = state::StateApi(src.gcs(), src.config).Timeline();
    }
    return Check(std::move(r)).dump();
  });
  // Ray's list_logs: {kind: [file names]} as JSON.
  m.def("state_list_logs", [](const std::string& node_id, const std::string& node_ip,
                              const std::string& glob, const std::string& address) {
    Source src = Open(address);
    absl::StatusOr<nlohmann::json> r;
    {
      nb::gil_scoped_release release;
      r = state::StateApi(src.gcs(), src.config).ListLogs(node_id, node_ip, glob);
    }
    return Check(std::move(r)).dump();
  });
  // Where a log is: (raylet address, GetLogRequest bytes, empty range, node id hex).
  m.def("state_resolve_log",
        [](const std::string& node_id, const std::string& node_ip, const std::string& filename,
           const std::string& actor_id, const std::string& task_id, int pid, int attempt_number,
           const std::string& suffix, int64_t tail, const std::string& address) {
          Source src = Open(address);
          state::LogQuery q{node_id, node_ip,        filename, actor_id, task_id,
                            pid,     attempt_number, suffix,   tail};
          absl::StatusOr<state::LogLocation> r;
          {
            nb::gil_scoped_release release;
            r = state::StateApi(src.gcs(), src.config).ResolveLog(q);
          }
          auto where = Check(std::move(r));
          return std::make_tuple(where.raylet_address, Bytes(where.request.SerializeAsString()),
                                 where.empty, where.node_id);
        });
  // One chunk of a resolved log from `start`: (data, next offset, file size).
  m.def("state_read_log", [](const std::string& raylet_address, const nb::bytes& request,
                             bool empty, int64_t start, int64_t end, int64_t tail) {
    state::LogLocation where;
    where.raylet_address = raylet_address;
    where.empty = empty;
    if (!where.request.ParseFromArray(request.c_str(), static_cast<int>(request.size()))) {
      throw nb::value_error("not a GetLogRequest");
    }
    if (start >= 0) where.request.set_start(start);
    if (end >= 0) where.request.set_end(end);
    where.request.set_tail_lines(static_cast<int32_t>(tail));
    auto config = Check(SystemConfig::FromProcessEnvironment());
    absl::StatusOr<rpc::GetLogReply> r;
    {
      nb::gil_scoped_release release;
      r = state::StateApi(nullptr, config).ReadLog(where);
    }
    auto reply = Check(std::move(r));
    return std::make_tuple(Bytes(reply.data()), reply.next(), reply.file_size());
  });
  m.def("state_summarize", [](const std::string& resource, const std::string& address) {
    Source src = Open(address);
    absl::StatusOr<nlohmann::json> r;
    {
      nb::gil_scoped_release release;
      r = state::StateApi(src.gcs(), src.config).Summarize(resource);
    }
    return Check(std::move(r)).dump();
  });
  // The text of `photon memory` (Ray's memory_summary).
  m.def("state_memory_summary",
        [](const std::string& group_by, const std::string& sort_by, const std::string& units,
           bool stats_only, int64_t num_entries, bool line_wrap, const std::string& address) {
          Source src = Open(address);
          state::MemoryOptions o;
          o.group_by = group_by;
          o.sort_by = sort_by;
          o.units = units;
          o.stats_only = stats_only;
          o.num_entries = num_entries;
          o.line_wrap = line_wrap;
          absl::StatusOr<std::string> r;
          {
            nb::gil_scoped_release release;
            r = state::StateApi(src.gcs(), src.config).MemorySummary(o);
          }
          return Check(std::move(r));
        });
}

}  // namespace photon::python
