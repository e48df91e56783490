// A fake photon::internal::Runtime for the API's unit tests: everything runs synchronously in
// this process. Tasks and actor calls run at submission (ExecuteFunction,
// CreateActorInstance, ExecuteActorMethod) and objects live in a map. It mirrors what the real
// runtime promises: failures are stored as objects that Get throws, handle references are
// counted, a non-detached actor is destroyed when its last handle goes.
//
// Thread-safety: one mutex guards the state; it is never held while user code runs (tasks,
// factories and methods may call back into the runtime).
#pragma once

#include <photon/api.h>
#include <photon/internal/function_registry.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace photon_test {

class FakeRuntime : public photon::internal::Runtime {
 public:
  using ActorOptions = photon::internal::ActorOptions;
  using CallOptions = photon::internal::CallOptions;
  using ExecutionResult = photon::internal::ExecutionResult;
  using ObjectBuffer = photon::internal::ObjectBuffer;
  using TaskArg = photon::internal::TaskArg;

  struct Object {
    std::string value;
    ExecutionResult::Kind error = ExecutionResult::Kind::kOk;
    std::string exception_type;
    std::string message;
    std::string actor_died;  // not empty: Get throws ActorDiedError with this message
    bool cancelled = false;
  };

  // --- tasks and objects ---

  std::string SubmitTask(const std::string& function_name, std::vector<TaskArg> args,
                         const CallOptions& options) override {
    std::vector<std::string> values;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_function = function_name;
      last_args = args;
      last_options = options;
      values = ResolveLocked(args);
    }
    std::vector<std::string_view> views(values.begin(), values.end());
    return Store(ToObject(photon::internal::ExecuteFunction(function_name, views)));
  }

  // The fake tracks no nesting: a put object does not hold the handles in it.
  std::string Put(std::string value, const std::vector<std::string>&) override {
    Object object;
    object.value = std::move(value);
    return Store(std::move(object));
  }

  std::vector<ObjectBuffer> Get(const std::vector<std::string>& object_ids,
                                int64_t timeout_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++get_calls;
    std::vector<ObjectBuffer> buffers;
    for (const std::string& id : object_ids) {
      auto it = objects_.find(id);
      if (it == objects_.end()) throw photon::ObjectLostError("fake: unknown object");
      const Object& object = it->second;
      if (object.cancelled) throw photon::TaskCancelledError("fake: cancelled");
      if (pending.count(id) != 0) {
        if (timeout_ms < 0) throw std::logic_error("fake: Get would block forever");
        throw photon::GetTimeoutError("fake: timed out");
      }
      if (!object.actor_died.empty()) throw photon::ActorDiedError(object.actor_died);
      if (object.error == ExecutionResult::Kind::kException) {
        throw photon::TaskError(object.exception_type, object.message, "fake worker");
      }
      if (object.error == ExecutionResult::Kind::kFunctionNotFound) {
        throw photon::FunctionNotFoundError(object.message);
      }
      auto bytes = std::make_shared<std::string>(object.value);
      buffers.push_back(ObjectBuffer{bytes->data(), bytes->size(), bytes});
    }
    return buffers;
  }

  std::vector<bool> Wait(const std::vector<std::string>& object_ids, int num_objects,
                         int64_t timeout_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_wait_num_objects = num_objects;
    std::vector<bool> ready;
    for (const std::string& id : object_ids) ready.push_back(pending.count(id) == 0);
    return ready;
  }

  void Cancel(const std::string& object_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled.push_back(object_id);
    if (pending.count(object_id) != 0) {
      objects_[object_id].cancelled = true;
      pending.erase(object_id);
    }
  }

  void AddLocalReference(const std::string& object_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++ref_counts_[object_id];
  }

  void RemoveLocalReference(const std::string& object_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    --ref_counts_[object_id];
  }

  int RefCount(const std::string& object_id) {
    std::lock_guard<std::mutex> lock(mu_);
    return ref_counts_[object_id];
  }

  // --- actors ---

  std::string CreateActor(const std::string& factory_name, std::vector<TaskArg> args,
                          const ActorOptions& options) override {
    std::string actor_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_factory = factory_name;
      last_args = args;
      last_actor_options = options;
      if (!options.name.empty() && names_.count(NameKey(options)) != 0) {
        throw photon::Error("fake: the actor name '" + options.name + "' is taken");
      }
      Actor actor;
      actor.factory = factory_name;
      actor.creation_args = ResolveLocked(args);
      actor.options = options;
      actor_id = std::string(20, '\xac');
      uint64_t n = ++next_id_;
      std::memcpy(actor_id.data() + 12, &n, sizeof(n));
      actors_[actor_id] = std::move(actor);
      if (!options.name.empty()) names_[NameKey(options)] = actor_id;
      actor_refs_[actor_id] = 1;
    }
    StartInstance(actor_id);
    return actor_id;
  }

  std::string SubmitActorTask(const std::string& actor_id, const std::string& method_name,
                              std::vector<TaskArg> args, const CallOptions& options) override {
    std::shared_ptr<void> instance;  // keeps the object alive while the call runs
    std::vector<std::string> values;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_actor_id = actor_id;
      last_method = method_name;
      last_args = args;
      last_options = options;
      auto it = actors_.find(actor_id);
      if (it == actors_.end() || !it->second.death.empty()) {
        Object died;
        died.actor_died = it == actors_.end() ? "fake: no such actor" : it->second.death;
        return StoreLocked(std::move(died));
      }
      instance = it->second.instance;
      values = ResolveLocked(args);
      current_actor_.push_back(actor_id);
    }
    std::vector<std::string_view> views(values.begin(), values.end());
    ExecutionResult result =
        photon::internal::ExecuteActorMethod(method_name, instance.get(), views);
    std::shared_ptr<void> exited;  // destroyed after the lock is released
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_actor_.pop_back();
      if (exiting_.erase(actor_id) != 0) exited = KillLocked(actor_id, "fake: the actor exited");
    }
    return Store(ToObject(std::move(result)));
  }

  void KillActor(const std::string& actor_id, bool no_restart) override {
    std::shared_ptr<void> killed;
    bool restart = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = actors_.find(actor_id);
      if (it == actors_.end() || !it->second.death.empty()) return;
      Actor& actor = it->second;
      int max_restarts = actor.options.max_restarts;
      restart = !no_restart && (max_restarts == -1 || actor.restarts < max_restarts);
      if (restart) {
        ++actor.restarts;
        killed = std::move(actor.instance);
      } else {
        killed = KillLocked(actor_id, "fake: the actor was killed");
      }
    }
    killed.reset();
    if (restart) StartInstance(actor_id);
  }

  std::string GetNamedActor(const std::string& name, const std::string& ray_namespace) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = names_.find({ray_namespace.empty() ? kJobNamespace : ray_namespace, name});
    return it == names_.end() ? std::string() : it->second;
  }

  void AddActorHandleReference(const std::string& actor_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++actor_refs_[actor_id];
  }

  void RemoveActorHandleReference(const std::string& actor_id) override {
    std::shared_ptr<void> destroyed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--actor_refs_[actor_id] > 0) return;
      auto it = actors_.find(actor_id);
      if (it != actors_.end() && !it->second.options.detached && it->second.death.empty()) {
        destroyed = KillLocked(actor_id, "fake: every handle to the actor is gone");
      }
    }
  }

  void ExitActor() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_actor_.empty()) throw photon::Error("fake: ExitActor outside an actor");
    exiting_.insert(current_actor_.back());
  }

  bool WasCurrentActorRestarted() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (current_actor_.empty()) throw photon::Error("fake: not in an actor");
    return actors_[current_actor_.back()].restarts > 0;
  }

  int ActorRefCount(const std::string& actor_id) {
    std::lock_guard<std::mutex> lock(mu_);
    return actor_refs_[actor_id];
  }

  bool ActorAlive(const std::string& actor_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actors_.find(actor_id);
    return it != actors_.end() && it->second.death.empty();
  }

  // Test-visible state (read after calls return; written under mu_).
  std::string last_function;
  std::string last_factory;
  std::string last_actor_id;
  std::string last_method;
  std::vector<TaskArg> last_args;
  CallOptions last_options;
  ActorOptions last_actor_options;
  int last_wait_num_objects = 0;
  int get_calls = 0;
  std::set<std::string> pending;
  std::vector<std::string> cancelled;

 private:
  static constexpr char kJobNamespace[] = "fake-job-namespace";

  struct Actor {
    std::string factory;
    std::vector<std::string> creation_args;  // resolved values, to restart
    ActorOptions options;
    std::shared_ptr<void> instance;
    std::string death;  // not empty: dead, and why
    int restarts = 0;
  };

  static std::pair<std::string, std::string> NameKey(const ActorOptions& options) {
    return {options.ray_namespace.empty() ? kJobNamespace : options.ray_namespace, options.name};
  }

  static Object ToObject(ExecutionResult result) {
    // The references held for handles nested in the result go, as the real
    // runtime's go once the reply is sent (the fake tracks no nesting).
    for (const auto& actor : result.nested_actor_ids) photon::internal::ReleaseActor(actor);
    Object object;
    object.value = std::move(result.value);
    object.error = result.kind;
    object.exception_type = std::move(result.exception_type);
    object.message = std::move(result.message);
    return object;
  }

  // The values of `args`, with references resolved to the objects' bytes.
  std::vector<std::string> ResolveLocked(const std::vector<TaskArg>& args) {
    std::vector<std::string> values;
    for (const TaskArg& arg : args) {
      if (!arg.is_ref) {
        values.push_back(arg.value);
        continue;
      }
      auto it = objects_.find(arg.object_id);
      if (it == objects_.end()) throw photon::ObjectLostError("fake: unknown argument object");
      values.push_back(it->second.value);
    }
    return values;
  }

  // Runs the actor's factory (again, on a restart). A factory that fails leaves the actor
  // dead, as the real runtime does.
  void StartInstance(const std::string& actor_id) {
    std::string factory;
    std::vector<std::string> values;
    {
      std::lock_guard<std::mutex> lock(mu_);
      factory = actors_[actor_id].factory;
      values = actors_[actor_id].creation_args;
    }
    std::vector<std::string_view> views(values.begin(), values.end());
    std::shared_ptr<void> instance;
    ExecutionResult result = photon::internal::CreateActorInstance(factory, views, &instance);
    std::lock_guard<std::mutex> lock(mu_);
    if (result.kind == ExecutionResult::Kind::kOk) {
      actors_[actor_id].instance = std::move(instance);
    } else {
      KillLocked(actor_id, "fake: the actor's constructor failed: " + result.exception_type + ": " +
                               result.message);
    }
  }

  // Marks the actor dead and frees its name; returns its instance for the caller to destroy
  // once mu_ is released.
  std::shared_ptr<void> KillLocked(const std::string& actor_id, std::string why) {
    Actor& actor = actors_[actor_id];
    actor.death = std::move(why);
    if (!actor.options.name.empty()) names_.erase(NameKey(actor.options));
    return std::move(actor.instance);
  }

  // A 40-byte id, like a real ObjectID, with one local reference counted.
  std::string StoreLocked(Object object) {
    std::string id(40, '\x5a');
    uint64_t n = ++next_id_;
    std::memcpy(id.data() + 32, &n, sizeof(n));
    objects_[id] = std::move(object);
    ref_counts_[id] = 1;
    return id;
  }

  std::string Store(Object object) {
    std::lock_guard<std::mutex> lock(mu_);
    return StoreLocked(std::move(object));
  }

  std::mutex mu_;
  uint64_t next_id_ = 0;
  std::unordered_map<std::string, Object> objects_;
  std::unordered_map<std::string, int> ref_counts_;
  std::unordered_map<std::string, Actor> actors_;
  std::map<std::pair<std::string, std::string>, std::string> names_;  // (namespace, name) -> id
  std::unordered_map<std::string, int> actor_refs_;
  std::vector<std::string> current_actor_;  // actors whose methods run, innermost last
  std::set<std::string> exiting_;           // called ExitActor in the running method
};

}  // namespace photon_test
