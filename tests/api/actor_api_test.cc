// The actor part of the C++ API (PHOTON_REMOTE of factories and methods, Actor, ActorHandle,
// GetActor, ExitActor, WasCurrentActorRestarted, handle serialization) against the fake
// runtime, which runs factories and methods synchronously in this process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <photon/api.h>
#include <photon/internal/function_registry.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "fake_runtime.h"

namespace {

using photon::internal::ExecutionResult;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;

// --- actor classes -----------------------------------------------------------------------

std::atomic<int> g_live_counters{0};

class Counter {
 public:
  explicit Counter(int start) : value_(start) { ++g_live_counters; }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  ~Counter() { --g_live_counters; }

  static Counter* FactoryCreate(int start) { return new Counter(start); }

  int Add(int x) { return value_ += x; }
  int Get() const { return value_; }
  void Reset() noexcept { value_ = 0; }
  double Scale(double factor) const { return value_ * factor; }
  std::string Describe(const std::string& prefix, std::vector<int> extra) const {
    int sum = value_;
    for (int e : extra) sum += e;
    return prefix + std::to_string(sum);
  }
  int AddFrom(const photon::ActorHandle<Counter>& other) {
    return value_ += *other.Task(&Counter::Get).Remote().Get();
  }
  photon::ActorHandle<Counter> Echo(photon::ActorHandle<Counter> handle) const { return handle; }
  int Fail(int code) {
    if (code > 0) throw std::out_of_range("code " + std::to_string(code));
    return code;
  }
  bool Restarted() const { return photon::WasCurrentActorRestarted(); }
  void Quit() { photon::ExitActor(); }
  int NotRegistered() const { return 0; }

 private:
  int value_;
};

Counter* CreateCounter(int start) { return new Counter(start); }
Counter* CreateCounterSum(int a, int b) { return new Counter(a + b); }
Counter* CreateFailingCounter(int start) {
  if (start < 0) throw std::invalid_argument("negative start " + std::to_string(start));
  return new Counter(start);
}
Counter* CreateNullCounter() { return nullptr; }
Counter* CreateUnregistered() { return new Counter(0); }

int Plus(int a, int b) { return a + b; }

// A normal task that uses the actor behind the handle it receives.
int AddThroughHandle(photon::ActorHandle<Counter> counter, int x) {
  return *counter.Task(&Counter::Add).Remote(x).Get();
}
std::string HandleId(const photon::ActorHandle<Counter>& counter) { return counter.ID(); }

// Virtual methods through a factory that returns a base pointer.
class Animal {
 public:
  virtual ~Animal() = default;
  virtual std::string Speak() const { return "..."; }
  static Animal* MakeDog();
};
class Dog : public Animal {
 public:
  std::string Speak() const override { return "woof"; }
};
Animal* Animal::MakeDog() { return new Dog(); }

// A second class, to check that a method is never run on an object of another class.
struct Box {
  int content = 7;
  int Open() const { return content; }
};
Box* CreateBox() { return new Box(); }

// A method whose state is shared by threads (max_concurrency > 1).
struct Tally {
  std::atomic<int> total{0};
  int Bump(int x) { return total += x; }
};
Tally* CreateTally() { return new Tally(); }

}  // namespace

PHOTON_REMOTE(CreateCounter, Counter::FactoryCreate, &Counter::Add, &Counter::Get, Plus,
              &Counter::Reset, &Counter::Scale, &Counter::Describe, &Counter::AddFrom,
              &Counter::Echo, &Counter::Fail, &Counter::Restarted, &Counter::Quit);
PHOTON_REMOTE(CreateCounterSum, CreateFailingCounter, CreateNullCounter, AddThroughHandle,
              HandleId);
PHOTON_REMOTE(Animal::MakeDog, &Animal::Speak, CreateBox, &Box::Open, CreateTally, &Tally::Bump);
PHOTON_REMOTE(&Counter::Add);  // again: harmless

namespace {

using photon_test::FakeRuntime;

class ActorApiTest : public ::testing::Test {
 protected:
  void SetUp() override { photon::internal::SetRuntime(&runtime_); }
  void TearDown() override { photon::internal::SetRuntime(nullptr); }

  FakeRuntime runtime_;
};

// --- creating actors and calling methods -------------------------------------------------

TEST_F(ActorApiTest, StatePersistsAcrossCalls) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(10);
  EXPECT_EQ(runtime_.last_factory, "CreateCounter");
  ASSERT_EQ(runtime_.last_args.size(), 1u);
  EXPECT_EQ(photon::Deserialize<int>(runtime_.last_args[0].value), 10);

  photon::ObjectRef<int> first = counter.Task(&Counter::Add).Remote(1);
  EXPECT_EQ(runtime_.last_method, "Counter::Add");
  EXPECT_EQ(runtime_.last_actor_id, counter.Binary());
  photon::ObjectRef<int> second = counter.Task(&Counter::Add).Remote(5);
  EXPECT_EQ(*first.Get(), 11);
  EXPECT_EQ(*second.Get(), 16);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 16);
  EXPECT_EQ(runtime_.last_method, "Counter::Get");

  // A static member factory, and a second actor with its own state.
  photon::ActorHandle<Counter> other = photon::Actor(Counter::FactoryCreate).Remote(100);
  EXPECT_EQ(runtime_.last_factory, "Counter::FactoryCreate");
  EXPECT_NE(other.ID(), counter.ID());
  EXPECT_EQ(*other.Task(&Counter::Add).Remote(1).Get(), 101);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 16);
}

TEST_F(ActorApiTest, ConstVoidNoexceptAndConvertingMethods) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounterSum).Remote(2, 3);
  EXPECT_EQ(*counter.Task(&Counter::Scale).Remote(2).Get(), 10.0);  // an int for a double
  EXPECT_EQ(*counter.Task(&Counter::Describe).Remote("sum=", std::vector<int>{1, 2}).Get(),
            "sum=8");
  photon::ObjectRef<void> reset = counter.Task(&Counter::Reset).Remote();
  EXPECT_EQ(runtime_.last_method, "Counter::Reset");
  reset.Get();
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 0);
}

TEST_F(ActorApiTest, ObjectRefArguments) {
  photon::ObjectRef<int> five = photon::Put(5);
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(five);
  ASSERT_EQ(runtime_.last_args.size(), 1u);
  EXPECT_TRUE(runtime_.last_args[0].is_ref);
  EXPECT_EQ(runtime_.last_args[0].object_id, five.Binary());

  photon::ObjectRef<int> added =
      counter.Task(&Counter::Add).Remote(photon::Task(Plus).Remote(1, 2));
  EXPECT_TRUE(runtime_.last_args[0].is_ref);
  EXPECT_EQ(*added.Get(), 8);
  // A method's result as the argument of the next call.
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(added).Get(), 16);
  EXPECT_EQ(*counter.Task(&Counter::Scale).Remote(five).Get(), 80.0);
  EXPECT_THROW(counter.Task(&Counter::Add).Remote(photon::ObjectRef<int>()), std::invalid_argument);
  EXPECT_THROW(photon::Actor(CreateCounter).Remote(photon::ObjectRef<int>()),
               std::invalid_argument);
}

TEST_F(ActorApiTest, VirtualMethodsThroughABasePointer) {
  photon::ActorHandle<Animal> dog = photon::Actor(Animal::MakeDog).Remote();
  EXPECT_EQ(*dog.Task(&Animal::Speak).Remote().Get(), "woof");
}

TEST_F(ActorApiTest, CallOptions) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(0);
  counter.Task(&Counter::Add).Remote(1);
  EXPECT_EQ(runtime_.last_options.name, "");
  counter.Task(&Counter::Add).SetName("add-one").Remote(1);
  EXPECT_EQ(runtime_.last_options.name, "add-one");
}

TEST_F(ActorApiTest, ArgumentChecksAtCompileTime) {
  using Params = photon::internal::ParamList<int, const std::string&>;
  static_assert(Params::Fit<int, const char(&)[3]>());
  static_assert(Params::Fit<photon::ObjectRef<double>, photon::ObjectRef<std::string>&>());
  static_assert(!Params::Fit<int>());
  static_assert(!Params::Fit<std::string, std::string>());
  static_assert(photon::internal::ParamList<photon::ActorHandle<Counter>>::Fit<
                photon::ActorHandle<Counter>&>());
  using Caller = decltype(std::declval<photon::ActorHandle<Counter>>().Task(&Counter::Describe));
  static_assert(
      std::is_same_v<Caller,
                     photon::ActorTaskCaller<std::string(const std::string&, std::vector<int>)>>);
  static_assert(std::is_same_v<decltype(photon::Actor(CreateCounterSum)),
                               photon::ActorCreator<Counter*(int, int)>>);
}

// --- options -----------------------------------------------------------------------------

TEST_F(ActorApiTest, ActorOptionsReachTheRuntime) {
  photon::Actor(CreateCounter).Remote(0);
  EXPECT_EQ(runtime_.last_actor_options.name, "");
  EXPECT_TRUE(runtime_.last_actor_options.resources.empty());
  EXPECT_EQ(runtime_.last_actor_options.max_restarts, 0);
  EXPECT_EQ(runtime_.last_actor_options.max_task_retries, 0);
  EXPECT_EQ(runtime_.last_actor_options.max_concurrency, 1);
  EXPECT_FALSE(runtime_.last_actor_options.detached);

  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter)
                                             .SetName("opts", "team")
                                             .SetResource("GPU", 0.5)
                                             .SetResource("CPU", 2)
                                             .SetMaxRestarts(-1)
                                             .SetMaxTaskRetries(3)
                                             .SetMaxConcurrency(8)
                                             .SetLifetime(photon::ActorLifetime::DETACHED)
                                             .Remote(0);
  const photon::internal::ActorOptions& options = runtime_.last_actor_options;
  EXPECT_EQ(options.name, "opts");
  EXPECT_EQ(options.ray_namespace, "team");
  EXPECT_EQ(options.resources, (std::unordered_map<std::string, double>{{"GPU", 0.5}, {"CPU", 2}}));
  EXPECT_EQ(options.max_restarts, -1);
  EXPECT_EQ(options.max_task_retries, 3);
  EXPECT_EQ(options.max_concurrency, 8);
  EXPECT_TRUE(options.detached);

  // Resources are passed as set (no CPU added); SetResources replaces them.
  photon::Actor(CreateCounter).SetResource("GPU", 1).Remote(0);
  EXPECT_EQ(runtime_.last_actor_options.resources,
            (std::unordered_map<std::string, double>{{"GPU", 1}}));
  photon::Actor(CreateCounter)
      .SetResource("GPU", 1)
      .SetResources({{"CPU", 0}, {"disk", 3}})
      .SetLifetime(photon::ActorLifetime::NON_DETACHED)
      .Remote(0);
  EXPECT_EQ(runtime_.last_actor_options.resources,
            (std::unordered_map<std::string, double>{{"CPU", 0}, {"disk", 3}}));
  EXPECT_FALSE(runtime_.last_actor_options.detached);
}

TEST_F(ActorApiTest, BadOptionsThrowInvalidArgumentNamingTheOption) {
  auto expect_invalid = [](auto&& set, const std::string& option) {
    try {
      set();
      ADD_FAILURE() << option << " accepted a bad value";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(option));
    }
  };
  auto creator = [] { return photon::Actor(CreateCounter); };
  expect_invalid([&] { creator().SetMaxRestarts(-2); }, "SetMaxRestarts");
  expect_invalid([&] { creator().SetMaxTaskRetries(-5); }, "SetMaxTaskRetries");
  expect_invalid([&] { creator().SetMaxConcurrency(0); }, "SetMaxConcurrency");
  expect_invalid([&] { creator().SetName(""); }, "SetName");
  expect_invalid([&] { creator().SetResource("CPU", -1); }, "SetResource");
  expect_invalid([&] { creator().SetResource("GPU", std::nan("")); }, "SetResource");
  expect_invalid([&] { creator().SetResource("GPU", std::numeric_limits<double>::infinity()); },
                 "SetResource");
  expect_invalid([&] { creator().SetResource("", 1); }, "SetResource");
  expect_invalid([&] { creator().SetResources({{"GPU", -0.5}}); }, "SetResources");
  // Limits are fine, and a rejected value leaves the option unchanged.
  auto ok = creator().SetMaxRestarts(-1).SetMaxTaskRetries(-1).SetMaxConcurrency(1);
  EXPECT_THROW(ok.SetMaxConcurrency(-3), std::invalid_argument);
  EXPECT_EQ(ok.Options().max_concurrency, 1);
  EXPECT_EQ(ok.Options().max_restarts, -1);
}

// --- handles -----------------------------------------------------------------------------

TEST_F(ActorApiTest, HandleCopiesCountReferences) {
  std::string id;
  {
    photon::ActorHandle<Counter> a = photon::Actor(CreateCounter).Remote(0);
    id = a.Binary();
    EXPECT_EQ(runtime_.ActorRefCount(id), 1);
    {
      photon::ActorHandle<Counter> b = a;  // copy adds
      EXPECT_EQ(runtime_.ActorRefCount(id), 2);
      photon::ActorHandle<Counter> c = std::move(b);  // move transfers
      EXPECT_TRUE(b.IsNil());
      EXPECT_EQ(runtime_.ActorRefCount(id), 2);
      photon::ActorHandle<Counter> d;
      d = c;  // copy assignment adds
      EXPECT_EQ(runtime_.ActorRefCount(id), 3);
      d = photon::ActorHandle<Counter>();  // assignment releases
      EXPECT_EQ(runtime_.ActorRefCount(id), 2);
      c = c;  // self-assignment changes nothing
      EXPECT_EQ(runtime_.ActorRefCount(id), 2);
    }
    EXPECT_EQ(runtime_.ActorRefCount(id), 1);
    std::vector<photon::ActorHandle<Counter>> copies(3, a);
    EXPECT_EQ(runtime_.ActorRefCount(id), 4);
    EXPECT_TRUE(runtime_.ActorAlive(id));
  }
  EXPECT_EQ(runtime_.ActorRefCount(id), 0);
  EXPECT_FALSE(runtime_.ActorAlive(id));  // the fake destroys a non-detached actor then
}

TEST_F(ActorApiTest, TheLastHandleDestroysTheInstanceAsItsClass) {
  int before = g_live_counters;
  {
    photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(0);
    EXPECT_EQ(g_live_counters, before + 1);
  }
  EXPECT_EQ(g_live_counters, before);
}

TEST_F(ActorApiTest, HandlesOutliveTheRuntime) {
  auto handle =
      std::make_unique<photon::ActorHandle<Counter>>(photon::Actor(CreateCounter).Remote(0));
  std::string id = handle->Binary();
  photon::internal::SetRuntime(nullptr);
  photon::ActorHandle<Counter> copy = *handle;  // no runtime: nothing to count
  handle.reset();
  EXPECT_THROW(copy.Task(&Counter::Get).Remote(), photon::Error);
  EXPECT_THROW(copy.Kill(), photon::Error);
  photon::internal::SetRuntime(&runtime_);
  EXPECT_EQ(runtime_.ActorRefCount(id), 1);
}

TEST_F(ActorApiTest, IdsComparisonAndHashing) {
  photon::ActorHandle<Counter> a = photon::Actor(CreateCounter).Remote(0);
  photon::ActorHandle<Counter> b = photon::Actor(CreateCounter).Remote(0);
  photon::ActorHandle<Counter> nil;
  EXPECT_EQ(a.ID().size(), 40u);  // 20 bytes in hex
  EXPECT_EQ(a.ID().substr(0, 4), "acac");
  EXPECT_EQ(nil.ID(), "");
  EXPECT_TRUE(nil.IsNil());
  EXPECT_EQ(a, photon::ActorHandle<Counter>(a));
  EXPECT_NE(a, b);
  EXPECT_TRUE(a < b || b < a);
  std::unordered_set<photon::ActorHandle<Counter>> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

TEST_F(ActorApiTest, NilHandlesAreRejected) {
  photon::ActorHandle<Counter> nil;
  EXPECT_THROW(nil.Task(&Counter::Get).Remote(), std::invalid_argument);
  EXPECT_THROW(nil.Kill(), std::invalid_argument);
}

// --- named actors ------------------------------------------------------------------------

TEST_F(ActorApiTest, GetActorByName) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).SetName("shared").Remote(1);
  std::optional<photon::ActorHandle<Counter>> found = photon::GetActor<Counter>("shared");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), counter.ID());
  EXPECT_EQ(runtime_.ActorRefCount(counter.Binary()), 2);  // the found handle counts
  found->Task(&Counter::Add).Remote(10);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 11);  // one actor, one state

  EXPECT_EQ(photon::GetActor<Counter>("missing"), std::nullopt);
  EXPECT_THROW(photon::GetActor<Counter>(""), std::invalid_argument);

  // Namespaces: the name is looked up in the job's namespace unless one is given.
  photon::ActorHandle<Counter> team =
      photon::Actor(CreateCounter).SetName("shared", "team").Remote(2);
  EXPECT_EQ(photon::GetActor<Counter>("shared")->ID(), counter.ID());
  EXPECT_EQ(photon::GetActor<Counter>("shared", "team")->ID(), team.ID());
  EXPECT_EQ(photon::GetActor<Counter>("shared", "other"), std::nullopt);

  // A taken name: the runtime's error comes through.
  EXPECT_THROW(photon::Actor(CreateCounter).SetName("shared").Remote(3), photon::Error);

  // A killed actor is no longer found.
  counter.Kill();
  EXPECT_EQ(photon::GetActor<Counter>("shared"), std::nullopt);
}

TEST_F(ActorApiTest, AHandleOfTheWrongTypeFailsCleanly) {
  photon::Actor(CreateBox).SetName("box").SetLifetime(photon::ActorLifetime::DETACHED).Remote();
  std::optional<photon::ActorHandle<Counter>> wrong = photon::GetActor<Counter>("box");
  ASSERT_TRUE(wrong.has_value());
  try {
    wrong->Task(&Counter::Get).Remote().Get();
    FAIL() << "Get did not throw";
  } catch (const photon::TaskError& e) {
    EXPECT_THAT(e.message(), HasSubstr("Counter"));
    EXPECT_THAT(e.message(), HasSubstr("Box"));
  }
  EXPECT_EQ(*photon::GetActor<Box>("box")->Task(&Box::Open).Remote().Get(), 7);
}

// --- handles as values -------------------------------------------------------------------

TEST_F(ActorApiTest, SerializationRoundTripCountsAReference) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(0);
  std::string bytes = photon::Serialize(counter);
  // msgpack ext 8: 0xc7, length 20, type kActorHandleExtType, then the binary ActorID.
  ASSERT_EQ(bytes.size(), 3u + 20u);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xc7);
  EXPECT_EQ(bytes[1], 20);
  EXPECT_EQ(bytes[2], photon::internal::kActorHandleExtType);
  EXPECT_EQ(bytes.substr(3), counter.Binary());
  EXPECT_EQ(runtime_.ActorRefCount(counter.Binary()), 1);
  {
    auto copy = photon::Deserialize<photon::ActorHandle<Counter>>(bytes);
    EXPECT_EQ(copy, counter);
    EXPECT_EQ(runtime_.ActorRefCount(counter.Binary()), 2);
    EXPECT_EQ(*copy.Task(&Counter::Add).Remote(4).Get(), 4);
  }
  EXPECT_EQ(runtime_.ActorRefCount(counter.Binary()), 1);

  // Handles inside containers, and the nil handle (msgpack nil).
  std::vector<photon::ActorHandle<Counter>> many{counter, photon::ActorHandle<Counter>()};
  auto back =
      photon::Deserialize<std::vector<photon::ActorHandle<Counter>>>(photon::Serialize(many));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], counter);
  EXPECT_TRUE(back[1].IsNil());
  EXPECT_EQ(photon::Serialize(photon::ActorHandle<Counter>()), std::string("\xc0"));

  // Other values are not handles.
  EXPECT_THROW(photon::Deserialize<photon::ActorHandle<Counter>>(photon::Serialize(3)),
               photon::Error);
  EXPECT_THROW(
      photon::Deserialize<photon::ActorHandle<Counter>>(photon::Serialize(counter.Binary())),
      photon::Error);
}

TEST_F(ActorApiTest, HandleAsAnArgumentOfATask) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(1);
  photon::ObjectRef<int> sum = photon::Task(AddThroughHandle).Remote(counter, 41);
  EXPECT_EQ(runtime_.last_method, "Counter::Add");  // the task called the actor
  EXPECT_EQ(*sum.Get(), 42);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 42);
  EXPECT_EQ(*photon::Task(HandleId).Remote(counter).Get(), counter.ID());
  // The task's copy was released when it returned.
  EXPECT_EQ(runtime_.ActorRefCount(counter.Binary()), 1);
  // By name, too.
  EXPECT_EQ(*photon::Task<int>("AddThroughHandle").Remote(counter, 1).Get(), 43);
}

TEST_F(ActorApiTest, HandleAsAnArgumentAndResultOfAMethod) {
  photon::ActorHandle<Counter> a = photon::Actor(CreateCounter).Remote(1);
  photon::ActorHandle<Counter> b = photon::Actor(CreateCounter).Remote(10);
  EXPECT_EQ(*a.Task(&Counter::AddFrom).Remote(b).Get(), 11);

  photon::ObjectRef<photon::ActorHandle<Counter>> echoed = a.Task(&Counter::Echo).Remote(b);
  std::shared_ptr<photon::ActorHandle<Counter>> back = echoed.Get();
  EXPECT_EQ(*back, b);
  EXPECT_EQ(runtime_.ActorRefCount(b.Binary()), 2);
  EXPECT_EQ(*back->Task(&Counter::Add).Remote(5).Get(), 15);
  back.reset();
  EXPECT_EQ(runtime_.ActorRefCount(b.Binary()), 1);
}

// --- failures ----------------------------------------------------------------------------

TEST_F(ActorApiTest, MethodExceptionsSurfaceAsTaskErrorAndTheActorLivesOn) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(3);
  try {
    counter.Task(&Counter::Fail).Remote(7).Get();
    FAIL() << "Get did not throw";
  } catch (const photon::TaskError& e) {
    EXPECT_EQ(e.exception_type(), "std::out_of_range");
    EXPECT_EQ(e.message(), "code 7");
  }
  EXPECT_EQ(*counter.Task(&Counter::Fail).Remote(0).Get(), 0);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 3);
}

TEST_F(ActorApiTest, ConstructorExceptionKillsTheActor) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateFailingCounter).Remote(-4);
  EXPECT_FALSE(counter.IsNil());  // Remote does not wait for the constructor
  try {
    counter.Task(&Counter::Get).Remote().Get();
    FAIL() << "Get did not throw";
  } catch (const photon::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("std::invalid_argument"));
    EXPECT_THAT(e.what(), HasSubstr("negative start -4"));
  }
  photon::ActorHandle<Counter> null = photon::Actor(CreateNullCounter).Remote();
  try {
    null.Task(&Counter::Get).Remote().Get();
    FAIL() << "Get did not throw";
  } catch (const photon::ActorDiedError& e) {
    EXPECT_THAT(e.what(), HasSubstr("returned nullptr"));
  }
}

TEST_F(ActorApiTest, UnregisteredFactoryOrMethodThrowsAtRemote) {
  try {
    photon::Actor(CreateUnregistered).Remote();
    FAIL() << "Remote did not throw";
  } catch (const photon::FunctionNotFoundError& e) {
    EXPECT_THAT(e.what(), HasSubstr("photon::Actor"));
    EXPECT_THAT(e.what(), HasSubstr("not registered with PHOTON_REMOTE"));
  }
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(0);
  try {
    counter.Task(&Counter::NotRegistered).Remote();
    FAIL() << "Remote did not throw";
  } catch (const photon::FunctionNotFoundError& e) {
    EXPECT_THAT(e.what(), HasSubstr("int ("));  // the method's type names its class
    EXPECT_THAT(e.what(), HasSubstr("Counter::*)() const"));
    EXPECT_THAT(e.what(), HasSubstr("not registered with PHOTON_REMOTE"));
  }
}

TEST_F(ActorApiTest, KillAndRestart) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).SetMaxRestarts(1).Remote(5);
  counter.Task(&Counter::Add).Remote(1);
  EXPECT_FALSE(*counter.Task(&Counter::Restarted).Remote().Get());

  counter.Kill(/*no_restart=*/false);                         // max_restarts allows one restart
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 5);  // the factory ran again
  EXPECT_TRUE(*counter.Task(&Counter::Restarted).Remote().Get());

  counter.Kill(/*no_restart=*/false);  // no restarts left
  EXPECT_THROW(counter.Task(&Counter::Get).Remote().Get(), photon::ActorDiedError);

  photon::ActorHandle<Counter> other = photon::Actor(CreateCounter).SetMaxRestarts(-1).Remote(0);
  other.Kill();  // no_restart defaults to true
  EXPECT_THROW(other.Task(&Counter::Get).Remote().Get(), photon::ActorDiedError);
}

TEST_F(ActorApiTest, ExitActorFromAMethod) {
  photon::ActorHandle<Counter> counter = photon::Actor(CreateCounter).Remote(0);
  counter.Task(&Counter::Quit).Remote().Get();  // the call itself completes
  EXPECT_THROW(counter.Task(&Counter::Get).Remote().Get(), photon::ActorDiedError);
  // Outside an actor the runtime refuses.
  EXPECT_THROW(photon::ExitActor(), photon::Error);
  EXPECT_THROW(photon::WasCurrentActorRestarted(), photon::Error);
}

TEST(ActorApiWithoutRuntimeTest, CallsBeforeInitThrow) {
  ASSERT_EQ(photon::internal::GetRuntimeOrNull(), nullptr);
  EXPECT_THROW(photon::Actor(CreateCounter).Remote(1), photon::Error);
  EXPECT_THROW(photon::GetActor<Counter>("x"), photon::Error);
  EXPECT_THROW(photon::ExitActor(), photon::Error);
  EXPECT_THROW(photon::WasCurrentActorRestarted(), photon::Error);
}

// --- the worker-side registry ------------------------------------------------------------

TEST(ActorRegistryTest, Names) {
  EXPECT_THAT(photon::internal::RegisteredFunctionNames(),
              IsSupersetOf({"CreateCounter", "Counter::FactoryCreate", "Counter::Add",
                            "Counter::Get", "Plus", "Animal::MakeDog", "Animal::Speak"}));
  EXPECT_FALSE(photon::internal::IsFunctionRegistered("Counter::NotRegistered"));
}

TEST(ActorRegistryTest, CreateAndCall) {
  std::shared_ptr<void> instance;
  ExecutionResult made =
      photon::internal::CreateActorInstance("CreateCounter", {photon::Serialize(2)}, &instance);
  ASSERT_EQ(made.kind, ExecutionResult::Kind::kOk) << made.message;
  ASSERT_NE(instance, nullptr);
  ExecutionResult added =
      photon::internal::ExecuteActorMethod("Counter::Add", instance.get(), {photon::Serialize(3)});
  ASSERT_EQ(added.kind, ExecutionResult::Kind::kOk) << added.message;
  EXPECT_EQ(photon::Deserialize<int>(added.value), 5);
  ExecutionResult reset =
      photon::internal::ExecuteActorMethod("Counter::Reset", instance.get(), {});
  EXPECT_EQ(reset.kind, ExecutionResult::Kind::kOk);
  EXPECT_TRUE(reset.value.empty());

  int live = g_live_counters;
  instance.reset();
  EXPECT_EQ(g_live_counters, live - 1);
}

TEST(ActorRegistryTest, Failures) {
  using photon::internal::CreateActorInstance;
  using photon::internal::ExecuteActorMethod;
  std::shared_ptr<void> counter;
  ASSERT_EQ(CreateActorInstance("CreateCounter", {photon::Serialize(0)}, &counter).kind,
            ExecutionResult::Kind::kOk);

  // Names of the wrong kind.
  std::shared_ptr<void> none;
  ExecutionResult r = CreateActorInstance("Plus", {}, &none);
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kFunctionNotFound);
  EXPECT_THAT(r.message, HasSubstr("'Plus' is registered as a remote function, not as an actor "
                                   "factory"));
  EXPECT_EQ(none, nullptr);
  r = CreateActorInstance("NoSuchFactory", {}, &none);
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kFunctionNotFound);
  EXPECT_THAT(r.message, HasSubstr("no actor factory named 'NoSuchFactory'"));
  r = photon::internal::ExecuteFunction("Counter::Add", {photon::Serialize(1)});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kFunctionNotFound);
  EXPECT_THAT(r.message, HasSubstr("an actor method"));
  r = ExecuteActorMethod("CreateCounter", counter.get(), {photon::Serialize(1)});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kFunctionNotFound);
  r = ExecuteActorMethod("Counter::Nope", counter.get(), {});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kFunctionNotFound);

  // Bad arguments, the wrong class, no instance.
  r = ExecuteActorMethod("Counter::Add", counter.get(), {});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kException);
  EXPECT_THAT(r.message, HasSubstr("takes 1 arguments"));
  r = ExecuteActorMethod("Counter::Add", counter.get(), {photon::Serialize(std::string("x"))});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kException);
  EXPECT_THAT(r.message, HasSubstr("argument 1"));
  std::shared_ptr<void> box;
  ASSERT_EQ(CreateActorInstance("CreateBox", {}, &box).kind, ExecutionResult::Kind::kOk);
  r = ExecuteActorMethod("Counter::Get", box.get(), {});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kException);
  EXPECT_EQ(r.exception_type, "photon::Error");
  EXPECT_THAT(r.message, HasSubstr("Box"));
  r = ExecuteActorMethod("Counter::Get", nullptr, {});
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kException);

  // A factory that throws: kException, and no instance.
  r = CreateActorInstance("CreateFailingCounter", {photon::Serialize(-1)}, &none);
  EXPECT_EQ(r.kind, ExecutionResult::Kind::kException);
  EXPECT_EQ(r.exception_type, "std::invalid_argument");
  EXPECT_EQ(r.message, "negative start -1");
  EXPECT_EQ(none, nullptr);
}

TEST(ActorRegistryTest, MethodsFromManyThreadsAtOnce) {
  std::shared_ptr<void> tally;
  ASSERT_EQ(photon::internal::CreateActorInstance("CreateTally", {}, &tally).kind,
            ExecutionResult::Kind::kOk);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&tally] {
      for (int j = 0; j < 100; ++j) {
        photon::internal::ExecuteActorMethod("Tally::Bump", tally.get(), {photon::Serialize(1)});
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ExecutionResult total =
      photon::internal::ExecuteActorMethod("Tally::Bump", tally.get(), {photon::Serialize(0)});
  EXPECT_EQ(photon::Deserialize<int>(total.value), 800);
}

TEST(ActorRegistryDeathTest, OneNameForAMethodAndAFunctionAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(photon::internal::RegisterRemoteFunctions("Counter::Add", &Plus),
               "'Counter::Add' is registered for two different functions");
  EXPECT_DEATH(photon::internal::RegisterRemoteFunctions("Plus", &Counter::Get),
               "'Plus' is registered for two different functions");
}

}  // namespace
