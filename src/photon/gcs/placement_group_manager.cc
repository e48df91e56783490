#include "photon/gcs/placement_group_manager.h"

#include <map>
#include <set>

#include "fmt/format.h"
#include "fmt/ranges.h"
#include "photon/common/logging.h"
#include "photon/raylet/scheduling/bundle_resources.h"
#include "photon/raylet/scheduling/cluster_view.h"
#include "photon/raylet/scheduling/policy/bundle_policy.h"
#include "photon/rpc/server.h"

namespace photon::gcs {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

constexpr char kGroupTable[] = "placement_groups";

std::string NameKey(const std::string& ns, const std::string& name) { return ns + '\0' + name; }

std::string RayletAddress(const rpc::NodeInfo& n) {
  return fmt::format("{}:{}", n.ip(), n.raylet_port());
}

grpc::Status Invalid(const std::string& what) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, what);
}

}  // namespace

struct PlacementGroupManager::Attempt {
  PlacementGroupID id;
  // Per raylet address: its node and the bundles (index, raw resources).
  struct Node {
    std::string node_id;
    std::vector<std::pair<int, raylet::ResourceSet>> bundles;
  };
  std::map<std::string, Node> nodes;
  std::vector<std::pair<int, std::string>> placed;  // bundle index -> node id
  absl::Mutex mu;
  size_t left ABSL_GUARDED_BY(mu) = 0;
  std::string failure ABSL_GUARDED_BY(mu);
  std::vector<std::string> reserved ABSL_GUARDED_BY(mu);  // raylets that prepared
};

PlacementGroupManager::PlacementGroupManager(Deps deps) : d_(std::move(deps)) {}

PlacementGroupManager::~PlacementGroupManager() { Stop(); }

void PlacementGroupManager::Persist(const Group& g) {
  if (d_.storage == nullptr || !d_.storage->durable()) return;
  const std::string& id = g.data.spec().placement_group_id();
  if (auto s = d_.storage->Put(kGroupTable, id, g.data.SerializeAsString(), true); !s.ok()) {
    PHOTON_LOG_WARN("cannot store placement group {}: {}",
                    PlacementGroupID::FromBinaryOrDie(id).Hex(), std::string(s.status().message()));
  }
}

absl::Status PlacementGroupManager::Recover() {
  if (d_.storage == nullptr || !d_.storage->durable()) return absl::OkStatus();
  auto rows = d_.storage->GetAll(kGroupTable);
  if (!rows.ok()) return rows.status();
  // Per group to place again: the bundles that may hold half-done reservations.
  std::vector<std::pair<PlacementGroupID, std::vector<int>>> unplaced;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::pair<int64_t, PlacementGroupID>> order;  // (creation time, id)
    for (const auto& [key, value] : *rows) {
      rpc::PlacementGroupTableData data;
      if (!data.ParseFromString(value)) {
        return absl::DataLossError("a stored placement group does not parse");
      }
      auto id = PlacementGroupID::FromBinary(data.spec().placement_group_id());
      if (!id.ok()) return absl::DataLossError("a stored placement group has a bad id");
      const auto state = data.state();
      const auto& spec = data.spec();
      if (state != rpc::PlacementGroupTableData::REMOVED && !spec.name().empty()) {
        names_[NameKey(spec.ray_namespace(), spec.name())] = *id;
      }
      if (state == rpc::PlacementGroupTableData::PENDING ||
          state == rpc::PlacementGroupTableData::RESCHEDULING) {
        std::vector<int> indexes;
        for (int i = 0; i < spec.bundles_size(); ++i) {
          if (spec.bundles(i).node_id().empty()) indexes.push_back(i);
        }
        unplaced.emplace_back(*id, std::move(indexes));
        order.emplace_back(
            state == rpc::PlacementGroupTableData::RESCHEDULING ? -1 : data.creation_time_ms(),
            *id);
      }
      groups_[*id].data = std::move(data);
    }
    std::sort(order.begin(), order.end());
    for (const auto& [t, id] : order) pending_.push_back(id);
  }
  for (const auto& [id, indexes] : unplaced) {
    for (const auto& n : d_.alive_nodes(/*resources=*/false)) {
      rpc::CancelResourceReserveRequest req;
      req.set_placement_group_id(id.Binary());
      for (int i : indexes) req.add_bundle_indexes(i);
      d_.raylets->Get(RayletAddress(n))
          ->CancelResourceReserve(req,
                                  [](const absl::Status&, rpc::CancelResourceReserveReply&&) {});
    }
  }
  PHOTON_LOG_INFO("recovered {} placement groups ({} to place)", rows->size(), unplaced.size());
  if (!unplaced.empty()) {
    // After the releases above have reached the raylets.
    absl::MutexLock lock(&mu_);
    RetryLater();
  }
  return absl::OkStatus();
}

void PlacementGroupManager::Stop() {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, g] : groups_) AnswerWaiters(g, false, &actions);
  }
  guard_->Close();
  for (auto& a : actions) a();
}

absl::Status PlacementGroupManager::Validate(const rpc::PlacementGroupSpec& spec) {
  if (spec.placement_group_id().size() != PlacementGroupID::kSize) {
    return absl::InvalidArgumentError("placement_group_id is not a PlacementGroupID");
  }
  if (spec.bundles().empty()) {
    return absl::InvalidArgumentError(
        "a placement group needs at least one bundle (bundles must be a non-empty list of "
        "resource dicts)");
  }
  for (int i = 0; i < spec.bundles_size(); ++i) {
    auto r = raylet::ResourceSet::FromProto(spec.bundles(i).resources());
    if (!r.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("bundle {} is invalid: {}", i, std::string(r.status().message())));
    }
    if (r->empty()) {
      return absl::InvalidArgumentError(fmt::format(
          "bundle {} reserves nothing: every bundle needs a resource with a quantity > 0, got "
          "{}",
          i, r->ToString()));
    }
    for (const auto& e : spec.bundles(i).label_selector()) {
      if (e.key().empty()) {
        return absl::InvalidArgumentError(
            fmt::format("bundle {}'s label selector has an empty label key", i));
      }
      bool needs_values =
          e.op() == rpc::LabelExpression::IN || e.op() == rpc::LabelExpression::NOT_IN;
      if (needs_values && e.values().empty()) {
        return absl::InvalidArgumentError(
            fmt::format("bundle {}'s label selector on '{}' lists no values", i, e.key()));
      }
    }
  }
  if (!rpc::PlacementStrategy_IsValid(spec.strategy())) {
    return absl::InvalidArgumentError(
        fmt::format("unknown placement strategy {}", static_cast<int>(spec.strategy())));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* PlacementGroupManager::CreatePlacementGroup(
    grpc::CallbackServerContext* ctx, const rpc::CreatePlacementGroupRequest* req,
    rpc::CreatePlacementGroupReply*) {
  if (auto s = Validate(req->spec()); !s.ok()) {
    return rpc::FinishNow(ctx, Invalid(std::string(s.message())));
  }
  PlacementGroupID id = PlacementGroupID::FromBinary(req->spec().placement_group_id()).value();
  {
    absl::MutexLock lock(&mu_);
    if (groups_.contains(id)) return rpc::FinishNow(ctx);  // a retry of a create that landed
    const rpc::PlacementGroupSpec& spec = req->spec();
    if (!spec.name().empty()) {
      std::string key = NameKey(spec.ray_namespace(), spec.name());
      if (names_.contains(key)) {
        return rpc::FinishNow(
            ctx, grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                              fmt::format("a placement group named '{}' already exists in "
                                          "namespace '{}'",
                                          spec.name(), spec.ray_namespace())));
      }
      names_[key] = id;
    }
    Group& g = groups_[id];
    *g.data.mutable_spec() = spec;
    for (auto& b : *g.data.mutable_spec()->mutable_bundles()) b.clear_node_id();
    g.data.set_state(rpc::PlacementGroupTableData::PENDING);
    g.data.set_creation_time_ms(NowMs());
    pending_.push_back(id);
    Persist(g);
  }
  ScheduleNext();
  return rpc::FinishNow(ctx);
}

void PlacementGroupManager::ScheduleNext() {
  {
    // Nothing to place, or an attempt out: not worth a copy of the nodes.
    absl::MutexLock lock(&mu_);
    if (stopped_ || in_flight_ || pending_.empty()) return;
  }
  std::vector<rpc::NodeInfo> nodes = d_.alive_nodes(/*resources=*/true);
  raylet::ClusterView view;
  std::map<std::string, std::string> address_of;  // node id -> raylet address
  for (const auto& n : nodes) {
    auto id = NodeID::FromBinary(n.node_id());
    if (!id.ok()) continue;
    raylet::NodeView v;
    v.id = *id;
    v.total = raylet::ResourceSet::FromProto(n.resources_total()).value_or(raylet::ResourceSet());
    v.available =
        raylet::ResourceSet::FromProto(n.resources_available()).value_or(raylet::ResourceSet());
    v.labels = std::map<std::string, std::string>(n.labels().begin(), n.labels().end());
    view.Upsert(std::move(v));
    address_of[n.node_id()] = RayletAddress(n);
  }
  std::shared_ptr<Attempt> attempt;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_ || in_flight_) return;
    for (const PlacementGroupID& id : pending_) {
      Group& g = groups_[id];
      // The bundles without a node: all of a new group's; those of a group
      // being rescheduled that were lost with their node.
      std::vector<int> indexes;
      std::vector<raylet::ResourceSet> bundles;
      raylet::BundleSelectors selectors;
      std::set<std::string> kept_on;  // nodes holding the group's surviving bundles
      for (int i = 0; i < g.data.spec().bundles_size(); ++i) {
        const auto& b = g.data.spec().bundles(i);
        if (!b.node_id().empty()) {
          kept_on.insert(b.node_id());
          continue;
        }
        indexes.push_back(i);
        bundles.push_back(
            raylet::ResourceSet::FromProto(b.resources()).value_or(raylet::ResourceSet()));
        selectors.push_back(b.label_selector());
      }
      const rpc::PlacementStrategy strategy = g.data.spec().strategy();
      raylet::BundlePlacement p;
      if (kept_on.empty()) {
        p = raylet::PlaceBundles(view, bundles, strategy, selectors);
      } else {
        // The lost bundles keep the strategy with the surviving ones:
        // STRICT_SPREAD avoids their nodes, STRICT_PACK goes to theirs.
        raylet::ClusterView allowed;
        for (const raylet::NodeView* v : view.Nodes()) {
          bool kept = kept_on.contains(v->id.Binary());
          if (strategy == rpc::STRICT_SPREAD && kept) continue;
          if (strategy == rpc::STRICT_PACK && !kept) continue;
          allowed.Upsert(*v);
        }
        p = raylet::PlaceBundles(allowed, bundles, strategy, selectors);
      }
      g.data.set_scheduling_attempts(g.data.scheduling_attempts() + 1);
      if (!p.placed) {
        g.data.set_pending_reason(p.message);
        continue;
      }
      attempt = std::make_shared<Attempt>();
      attempt->id = id;
      for (size_t k = 0; k < p.nodes.size(); ++k) {
        const std::string node = p.nodes[k].Binary();
        attempt->placed.emplace_back(indexes[k], node);
        Attempt::Node& n = attempt->nodes[address_of[node]];
        n.node_id = node;
        n.bundles.emplace_back(indexes[k], bundles[k]);
      }
      break;
    }
    if (attempt == nullptr) {
      if (!pending_.empty()) RetryLater();
      return;
    }
    in_flight_ = true;
  }
  {
    absl::MutexLock lock(&attempt->mu);
    attempt->left = attempt->nodes.size();
  }
  for (const auto& [address, node] : attempt->nodes) {
    rpc::PrepareBundleResourcesRequest req;
    req.set_placement_group_id(attempt->id.Binary());
    for (const auto& [index, resources] : node.bundles) {
      auto* b = req.add_bundles();
      b->set_index(index);
      resources.ToProto(b->mutable_resources());
    }
    d_.raylets->Get(address)->PrepareBundleResources(
        req, [this, attempt, address = address, g = guard_](
                 const absl::Status& s, rpc::PrepareBundleResourcesReply&& reply) {
          auto token = g->Enter();
          if (!token) return;
          bool last;
          {
            absl::MutexLock lock(&attempt->mu);
            if (s.ok() && reply.success()) {
              attempt->reserved.push_back(address);
            } else if (attempt->failure.empty()) {
              attempt->failure = s.ok() ? reply.message() : std::string(s.message());
            }
            last = --attempt->left == 0;
          }
          if (last) OnPrepared(attempt);
        });
  }
}

void PlacementGroupManager::OnPrepared(std::shared_ptr<Attempt> attempt) {
  std::string failure;
  {
    absl::MutexLock lock(&attempt->mu);
    failure = attempt->failure;
  }
  bool removed;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(attempt->id);
    removed =
        it == groups_.end() || it->second.data.state() == rpc::PlacementGroupTableData::REMOVED;
  }
  if (removed || !failure.empty()) {
    Abandon(attempt, removed, removed ? "removed" : failure);
    return;
  }
  {
    absl::MutexLock lock(&attempt->mu);
    attempt->left = attempt->nodes.size();
  }
  for (const auto& [address, node] : attempt->nodes) {
    rpc::CommitBundleResourcesRequest req;
    req.set_placement_group_id(attempt->id.Binary());
    for (const auto& [index, resources] : node.bundles) req.add_bundle_indexes(index);
    d_.raylets->Get(address)->CommitBundleResources(
        req, [this, attempt, g = guard_](const absl::Status& s, rpc::CommitBundleResourcesReply&&) {
          auto token = g->Enter();
          if (!token) return;
          bool last;
          {
            absl::MutexLock lock(&attempt->mu);
            if (!s.ok() && attempt->failure.empty()) attempt->failure = std::string(s.message());
            last = --attempt->left == 0;
          }
          if (last) OnCommitted(attempt);
        });
  }
}

void PlacementGroupManager::OnCommitted(std::shared_ptr<Attempt> attempt) {
  std::string failure;
  {
    absl::MutexLock lock(&attempt->mu);
    failure = attempt->failure;
  }
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(attempt->id);
    bool removed =
        it == groups_.end() || it->second.data.state() == rpc::PlacementGroupTableData::REMOVED;
    if (!removed && failure.empty()) {
      Group& g = it->second;
      auto* bundles = g.data.mutable_spec()->mutable_bundles();
      for (const auto& [index, node] : attempt->placed) (*bundles)[index].set_node_id(node);
      g.data.set_state(rpc::PlacementGroupTableData::CREATED);
      g.data.set_scheduled_time_ms(NowMs());
      g.data.clear_pending_reason();
      Persist(g);
      std::erase(pending_, attempt->id);
      AnswerWaiters(g, true, &actions);
      in_flight_ = false;
      PHOTON_LOG_DEBUG("placement group {} created on {} nodes", attempt->id.Hex(),
                       attempt->nodes.size());
      for (const auto& [address, node] : attempt->nodes) {
        raylet::ResourceSet named;
        for (const auto& [index, raw] : node.bundles) {
          named.Add(raylet::CommittedBundleResources(attempt->id, index, raw));
        }
        actions.push_back(
            [this, node_id = node.node_id, named] { d_.on_committed(node_id, named); });
      }
      actions.push_back([this] { ScheduleNext(); });
    } else {
      actions.push_back([this, attempt, removed, failure] {
        Abandon(attempt, removed, removed ? "removed" : failure);
      });
    }
  }
  for (auto& a : actions) a();
}

void PlacementGroupManager::Abandon(std::shared_ptr<Attempt> attempt, bool removed,
                                    const std::string& why) {
  PHOTON_LOG_DEBUG("placement group {}: attempt abandoned ({})", attempt->id.Hex(), why);
  std::vector<std::string> reserved;
  {
    absl::MutexLock lock(&attempt->mu);
    reserved = attempt->reserved;
  }
  for (const std::string& address : reserved) {
    rpc::CancelResourceReserveRequest req;
    req.set_placement_group_id(attempt->id.Binary());
    req.set_removed(removed);
    // Only this attempt's bundles: the node may hold others of the group
    // that survived a node's death.
    for (const auto& [index, resources] : attempt->nodes[address].bundles) {
      req.add_bundle_indexes(index);
    }
    d_.raylets->Get(address)->CancelResourceReserve(
        req, [](const absl::Status&, rpc::CancelResourceReserveReply&&) {});
  }
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    auto it = groups_.find(attempt->id);
    if (it != groups_.end() && !removed) {
      it->second.data.set_pending_reason(
          fmt::format("reserving its bundles failed ({}); trying again", why));
    }
    RetryLater();
  }
}

void PlacementGroupManager::OnNodeDead(const std::string& node_id) {
  {
    absl::MutexLock lock(&mu_);
    for (auto& [id, g] : groups_) {
      const auto state = g.data.state();
      if (state != rpc::PlacementGroupTableData::CREATED &&
          state != rpc::PlacementGroupTableData::RESCHEDULING) {
        continue;
      }
      std::vector<int> lost;
      for (int i = 0; i < g.data.spec().bundles_size(); ++i) {
        auto* b = g.data.mutable_spec()->mutable_bundles(i);
        if (b->node_id() != node_id) continue;
        b->clear_node_id();
        lost.push_back(i);
      }
      if (lost.empty()) continue;
      g.data.set_state(rpc::PlacementGroupTableData::RESCHEDULING);
      g.data.set_pending_reason(fmt::format("bundles {} were lost with node {}; placing them again",
                                            fmt::join(lost, ", "),
                                            NodeID::FromBinaryOrDie(node_id).Hex()));
      PHOTON_LOG_INFO("placement group {}: {}", id.Hex(), g.data.pending_reason());
      Persist(g);
      // Rescheduled before the groups that were never placed, as in Ray.
      if (std::find(pending_.begin(), pending_.end(), id) == pending_.end()) {
        pending_.push_front(id);
      }
    }
  }
  ScheduleNext();
}

void PlacementGroupManager::RetryLater() {
  if (retry_scheduled_ || stopped_) return;
  retry_scheduled_ = true;
  d_.timer->RunAfter("place pending placement groups",
                     absl::Milliseconds(d_.config->placement_group_retry_delay_ms()),
                     [this, g = guard_] {
                       auto token = g->Enter();
                       if (!token) return;
                       {
                         absl::MutexLock lock(&mu_);
                         retry_scheduled_ = false;
                       }
                       ScheduleNext();
                     });
}

void PlacementGroupManager::CancelEverywhere(const PlacementGroupID& id, bool removed) {
  for (const auto& n : d_.alive_nodes(/*resources=*/false)) {
    rpc::CancelResourceReserveRequest req;
    req.set_placement_group_id(id.Binary());
    req.set_removed(removed);
    d_.raylets->Get(RayletAddress(n))
        ->CancelResourceReserve(req, [](const absl::Status&, rpc::CancelResourceReserveReply&&) {});
  }
}

void PlacementGroupManager::Remove(const PlacementGroupID& id, std::vector<Action>* actions) {
  auto it = groups_.find(id);
  if (it == groups_.end()) return;
  Group& g = it->second;
  if (g.data.state() == rpc::PlacementGroupTableData::REMOVED) return;
  if (g.data.state() == rpc::PlacementGroupTableData::CREATED ||
      g.data.state() == rpc::PlacementGroupTableData::RESCHEDULING) {
    std::map<std::string, std::pair<raylet::ResourceSet, raylet::ResourceSet>> per_node;
    for (int i = 0; i < g.data.spec().bundles_size(); ++i) {
      const auto& b = g.data.spec().bundles(i);
      if (b.node_id().empty()) continue;  // lost with its node, not placed again yet
      auto raw = raylet::ResourceSet::FromProto(b.resources()).value_or(raylet::ResourceSet());
      auto& [named, raws] = per_node[b.node_id()];
      named.Add(raylet::CommittedBundleResources(id, i, raw));
      raws.Add(raw);
    }
    for (const auto& [node, sets] : per_node) {
      actions->push_back([this, node = node, named = sets.first, raw = sets.second] {
        d_.on_released(node, named, raw);
      });
    }
  }
  g.data.set_state(rpc::PlacementGroupTableData::REMOVED);
  Persist(g);
  const auto& spec = g.data.spec();
  if (!spec.name().empty()) names_.erase(NameKey(spec.ray_namespace(), spec.name()));
  std::erase(pending_, id);
  AnswerWaiters(g, false, actions);
  actions->push_back([this, id] {
    CancelEverywhere(id, /*removed=*/true);
    d_.on_removed(id.Binary());
  });
}

grpc::ServerUnaryReactor* PlacementGroupManager::RemovePlacementGroup(
    grpc::CallbackServerContext* ctx, const rpc::RemovePlacementGroupRequest* req,
    rpc::RemovePlacementGroupReply*) {
  auto id = PlacementGroupID::FromBinary(req->placement_group_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("placement_group_id is not a PlacementGroupID"));
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    if (!groups_.contains(*id)) {
      return rpc::FinishNow(
          ctx, grpc::Status(grpc::StatusCode::NOT_FOUND,
                            fmt::format("placement group {} does not exist", id->Hex())));
    }
    Remove(*id, &actions);
  }
  for (auto& a : actions) a();
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* PlacementGroupManager::GetPlacementGroup(
    grpc::CallbackServerContext* ctx, const rpc::GetPlacementGroupRequest* req,
    rpc::GetPlacementGroupReply* reply) {
  absl::MutexLock lock(&mu_);
  std::optional<PlacementGroupID> id;
  if (!req->placement_group_id().empty()) {
    auto parsed = PlacementGroupID::FromBinary(req->placement_group_id());
    if (!parsed.ok()) {
      return rpc::FinishNow(ctx, Invalid("placement_group_id is not a PlacementGroupID"));
    }
    id = *parsed;
  } else {
    auto n = names_.find(NameKey(req->ray_namespace(), req->name()));
    if (n != names_.end()) id = n->second;
  }
  if (id) {
    auto it = groups_.find(*id);
    if (it != groups_.end()) {
      reply->set_found(true);
      *reply->mutable_placement_group() = it->second.data;
    }
  }
  return rpc::FinishNow(ctx);
}

std::map<rpc::PlacementGroupTableData::State, int64_t> PlacementGroupManager::CountByState() {
  absl::MutexLock lock(&mu_);
  std::map<rpc::PlacementGroupTableData::State, int64_t> out;
  for (const auto& [id, g] : groups_) ++out[g.data.state()];
  return out;
}

grpc::ServerUnaryReactor* PlacementGroupManager::GetAllPlacementGroups(
    grpc::CallbackServerContext* ctx, const rpc::GetAllPlacementGroupsRequest*,
    rpc::GetAllPlacementGroupsReply* reply) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, g] : groups_) *reply->add_placement_groups() = g.data;
  std::sort(
      reply->mutable_placement_groups()->begin(), reply->mutable_placement_groups()->end(),
      [](const auto& a, const auto& b) { return a.creation_time_ms() < b.creation_time_ms(); });
  return rpc::FinishNow(ctx);
}

grpc::ServerUnaryReactor* PlacementGroupManager::WaitPlacementGroupReady(
    grpc::CallbackServerContext* ctx, const rpc::WaitPlacementGroupReadyRequest* req,
    rpc::WaitPlacementGroupReadyReply* reply) {
  auto id = PlacementGroupID::FromBinary(req->placement_group_id());
  if (!id.ok()) return rpc::FinishNow(ctx, Invalid("placement_group_id is not a PlacementGroupID"));
  auto* reactor = ctx->DefaultReactor();
  uint64_t waiter;
  {
    absl::MutexLock lock(&mu_);
    auto it = groups_.find(*id);
    if (it == groups_.end() || it->second.data.state() == rpc::PlacementGroupTableData::REMOVED) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::NOT_FOUND,
                       fmt::format("placement group {} does not exist or was removed", id->Hex())));
      return reactor;
    }
    if (it->second.data.state() == rpc::PlacementGroupTableData::CREATED || stopped_) {
      reply->set_ready(it->second.data.state() == rpc::PlacementGroupTableData::CREATED);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    waiter = next_waiter_++;
    it->second.waiters.push_back(Waiter{waiter, reactor, reply});
  }
  // Not ready within the timeout: answer ready = false.
  d_.timer->RunAfter("placement group wait timeout",
                     absl::Milliseconds(std::max<int64_t>(0, req->timeout_ms())),
                     [this, id = *id, waiter, g = guard_] {
                       auto token = g->Enter();
                       if (!token) return;
                       grpc::ServerUnaryReactor* r = nullptr;
                       {
                         absl::MutexLock lock(&mu_);
                         auto it = groups_.find(id);
                         if (it == groups_.end()) return;
                         auto& ws = it->second.waiters;
                         for (auto w = ws.begin(); w != ws.end(); ++w) {
                           if (w->id != waiter) continue;
                           w->reply->set_ready(false);
                           r = w->reactor;
                           ws.erase(w);
                           break;
                         }
                       }
                       if (r != nullptr) r->Finish(grpc::Status::OK);
                     });
  return reactor;
}

void PlacementGroupManager::AnswerWaiters(Group& g, bool ready, std::vector<Action>* actions) {
  const bool removed = g.data.state() == rpc::PlacementGroupTableData::REMOVED;
  for (const Waiter& w : g.waiters) {
    w.reply->set_ready(ready);
    actions->push_back([r = w.reactor, removed] {
      r->Finish(removed
                    ? grpc::Status(grpc::StatusCode::NOT_FOUND, "the placement group was removed")
                    : grpc::Status::OK);
    });
  }
  g.waiters.clear();
}

void PlacementGroupManager::OnJobFinished(const std::string& job_id) {
  std::vector<Action> actions;
  {
    absl::MutexLock lock(&mu_);
    std::vector<PlacementGroupID> doomed;
    for (const auto& [id, g] : groups_) {
      if (g.data.spec().creator_job_id() == job_id && !g.data.spec().detached()) {
        doomed.push_back(id);
      }
    }
    for (const auto& id : doomed) Remove(id, &actions);
  }
  for (auto& a : actions) a();
}

void PlacementGroupManager::OnNodeAdded() { ScheduleNext(); }

}  // namespace photon::gcs
