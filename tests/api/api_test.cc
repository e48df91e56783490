// The C++ API (registration, Task, ObjectRef, Put/Get/Wait/Cancel, serialization) against a
// fake runtime that runs tasks synchronously in this process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <photon/api.h>
#include <photon/internal/function_registry.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fake_runtime.h"

namespace {

using photon::internal::CallOptions;
using photon::internal::ExecutionResult;
using photon::internal::ObjectBuffer;
using photon::internal::TaskArg;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// --- remote functions ------------------------------------------------------------------

struct Point {
  double x = 0;
  double y = 0;
  std::string label;
  MSGPACK_DEFINE(x, y, label);
  bool operator==(const Point&) const = default;
};

int Add(int a, int b) { return a + b; }
std::string Greet(const std::string& name) { return "hello " + name; }
std::vector<int> Doubled(std::vector<int> values) {
  for (int& v : values) v *= 2;
  return values;
}
Point Midpoint(const Point& a, const Point& b) {
  return Point{(a.x + b.x) / 2, (a.y + b.y) / 2, a.label + "-" + b.label};
}
std::map<std::string, int> CountWords(const std::vector<std::string>& words) {
  std::map<std::string, int> counts;
  for (const std::string& w : words) ++counts[w];
  return counts;
}
double Half(double x) { return x / 2; }
int g_touched = 0;
void Touch(int x) { g_touched = x; }
int Throws(int x) { throw std::invalid_argument("bad x: " + std::to_string(x)); }
int ThrowsInt() { throw 42; }
int NoArgs() { return 7; }
int Negate(int x) noexcept { return -x; }
int NotRegistered(int x) { return x; }
template <int A, int B>
int SumOf(int x) {
  return x + A + B;
}
int F1() { return 1; }
int F2() { return 2; }
int F3() { return 3; }
int F4() { return 4; }
int F5() { return 5; }
int F6() { return 6; }

}  // namespace

namespace geometry {
int Area(int width, int height) { return width * height; }
}  // namespace geometry

PHOTON_REMOTE(Add, Greet, Doubled, Midpoint, CountWords, Half, Touch, Throws, ThrowsInt, NoArgs,
              &Negate, geometry::Area, F1, F2, F3, F4, F5, F6);
PHOTON_REMOTE(SumOf<1, 2>);
PHOTON_REMOTE(Add);  // the same function again: harmless

namespace {

// --- the fake runtime ------------------------------------------------------------------

using photon_test::FakeRuntime;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { photon::internal::SetRuntime(&runtime_); }
  void TearDown() override { photon::internal::SetRuntime(nullptr); }

  FakeRuntime runtime_;
};

// --- tasks -----------------------------------------------------------------------------

TEST_F(ApiTest, TaskReturnsInt) {
  photon::ObjectRef<int> sum = photon::Task(Add).Remote(1, 2);
  EXPECT_EQ(*sum.Get(), 3);
  EXPECT_EQ(*photon::Get(sum), 3);
  EXPECT_EQ(runtime_.last_function, "Add");
  ASSERT_EQ(runtime_.last_args.size(), 2u);
  EXPECT_FALSE(runtime_.last_args[0].is_ref);
  EXPECT_EQ(photon::Deserialize<int>(runtime_.last_args[0].value), 1);
  EXPECT_EQ(photon::Deserialize<int>(runtime_.last_args[1].value), 2);
}

TEST_F(ApiTest, TaskWithStringsVectorsMapsAndStructs) {
  EXPECT_EQ(*photon::Task(Greet).Remote("bob").Get(), "hello bob");
  EXPECT_EQ(*photon::Task(Greet).Remote(std::string("ann")).Get(), "hello ann");
  EXPECT_THAT(*photon::Task(Doubled).Remote(std::vector<int>{1, 2, 3}).Get(), ElementsAre(2, 4, 6));
  Point mid = *photon::Task(Midpoint).Remote(Point{0, 0, "a"}, Point{2, 4, "b"}).Get();
  EXPECT_EQ(mid, (Point{1, 2, "a-b"}));
  std::map<std::string, int> counts =
      *photon::Task(CountWords).Remote(std::vector<std::string>{"x", "y", "x"}).Get();
  EXPECT_EQ(counts, (std::map<std::string, int>{{"x", 2}, {"y", 1}}));
}

TEST_F(ApiTest, ArgumentsAreConvertedToParameterTypes) {
  photon::Task(Half).Remote(3);  // an int for a double
  EXPECT_EQ(photon::Deserialize<double>(runtime_.last_args[0].value), 3.0);
  EXPECT_EQ(*photon::Task(Half).Remote(3).Get(), 1.5);
}

TEST_F(ApiTest, NoArgumentsNoexceptQualifiedAndTemplateNames) {
  EXPECT_EQ(*photon::Task(NoArgs).Remote().Get(), 7);
  EXPECT_EQ(*photon::Task(Negate).Remote(5).Get(), -5);
  EXPECT_EQ(runtime_.last_function, "Negate");  // the leading & is dropped
  EXPECT_EQ(*photon::Task(geometry::Area).Remote(3, 4).Get(), 12);
  EXPECT_EQ(runtime_.last_function, "geometry::Area");
  EXPECT_EQ(*photon::Task(SumOf<1, 2>).Remote(10).Get(), 13);
  EXPECT_EQ(runtime_.last_function, "SumOf<1,2>");
  EXPECT_EQ(*photon::Task(F6).Remote().Get(), 6);
}

TEST_F(ApiTest, ObjectRefArgumentsArePassedAsReferences) {
  photon::ObjectRef<int> twenty = photon::Put(20);
  photon::ObjectRef<int> sum = photon::Task(Add).Remote(twenty, 1);
  ASSERT_EQ(runtime_.last_args.size(), 2u);
  EXPECT_TRUE(runtime_.last_args[0].is_ref);
  EXPECT_EQ(runtime_.last_args[0].object_id, twenty.Binary());
  EXPECT_FALSE(runtime_.last_args[1].is_ref);
  EXPECT_EQ(*sum.Get(), 21);
  // A task's result as the argument of the next one.
  EXPECT_EQ(*photon::Task(Add).Remote(photon::Task(Add).Remote(1, 2), sum).Get(), 24);
  // An ObjectRef<int> for a double parameter.
  EXPECT_EQ(*photon::Task(Half).Remote(twenty).Get(), 10.0);
  EXPECT_THROW(photon::Task(Add).Remote(photon::ObjectRef<int>(), 1), std::invalid_argument);
}

TEST_F(ApiTest, VoidFunctions) {
  g_touched = 0;
  photon::ObjectRef<void> done = photon::Task(Touch).Remote(5);
  EXPECT_FALSE(done.IsNil());
  done.Get();
  photon::Get(done);
  photon::Get(done, 100);
  photon::Get(std::vector<photon::ObjectRef<void>>{done, done});
  EXPECT_EQ(g_touched, 5);
}

TEST_F(ApiTest, ArgumentChecksAtCompileTime) {
  using photon::internal::ArgumentFits;
  static_assert(ArgumentFits<int, double>());
  static_assert(ArgumentFits<const char(&)[4], const std::string&>());
  static_assert(ArgumentFits<photon::ObjectRef<int>&, double>());
  static_assert(ArgumentFits<const photon::ObjectRef<std::string>&, const std::string&>());
  static_assert(!ArgumentFits<std::string, int>());
  static_assert(!ArgumentFits<photon::ObjectRef<std::string>, int>());
  static_assert(!ArgumentFits<photon::ObjectRef<void>, int>());
}

TEST_F(ApiTest, ExceptionsSurfaceAsTaskError) {
  photon::ObjectRef<int> failed = photon::Task(Throws).Remote(3);
  try {
    failed.Get();
    FAIL() << "Get did not throw";
  } catch (const photon::TaskError& e) {
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "bad x: 3");
  }
  try {
    photon::Task(ThrowsInt).Remote().Get();
    FAIL() << "Get did not throw";
  } catch (const photon::TaskError& e) {
    EXPECT_EQ(e.exception_type(), "int");
    EXPECT_THAT(e.message(), HasSubstr("not a std::exception"));
  }
}

TEST_F(ApiTest, UnregisteredFunctionThrowsAtRemote) {
  try {
    photon::Task(NotRegistered).Remote(1);
    FAIL() << "Remote did not throw";
  } catch (const photon::FunctionNotFoundError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not registered with PHOTON_REMOTE"));
  }
}

TEST_F(ApiTest, TaskByName) {
  EXPECT_EQ(*photon::Task<int>("Add").Remote(2, 3).Get(), 5);
  EXPECT_EQ(*photon::Task<std::string>("Greet").Remote("cy").Get(), "hello cy");
  EXPECT_EQ(*photon::Task<int>("Add").Remote(photon::Put(1), 1).Get(), 2);
  EXPECT_THROW(photon::Task<int>("NoSuchFunction").Remote().Get(), photon::FunctionNotFoundError);
  EXPECT_THROW(photon::Task<int>("").Remote(), std::invalid_argument);
}

// --- options ---------------------------------------------------------------------------

TEST_F(ApiTest, OptionsReachTheRuntime) {
  photon::Task(Add).Remote(1, 1);
  EXPECT_TRUE(runtime_.last_options.resources.empty());
  EXPECT_EQ(runtime_.last_options.max_retries, -2);

  photon::Task(Add)
      .SetName("adder")
      .SetResource("GPU", 0.5)
      .SetMaxRetries(-1)
      .SetRetryExceptions(true)
      .Remote(1, 1);
  EXPECT_EQ(runtime_.last_options.name, "adder");
  EXPECT_EQ(runtime_.last_options.resources,
            (std::unordered_map<std::string, double>{{"GPU", 0.5}, {"CPU", 1}}));
  EXPECT_EQ(runtime_.last_options.max_retries, -1);
  EXPECT_TRUE(runtime_.last_options.retry_exceptions);

  photon::Task(Add).SetResource("GPU", 1).SetResources({{"CPU", 2}, {"disk", 0}}).Remote(1, 1);
  EXPECT_EQ(runtime_.last_options.resources,
            (std::unordered_map<std::string, double>{{"CPU", 2}, {"disk", 0}}));
}

TEST_F(ApiTest, BadOptionsThrowInvalidArgument) {
  auto expect_invalid = [](auto&& set, const std::string& option) {
    try {
      set();
      ADD_FAILURE() << option << " accepted a bad value";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(option));
    }
  };
  expect_invalid([] { photon::Task(Add).SetResource("CPU", -1); }, "SetResource");
  expect_invalid([] { photon::Task(Add).SetResource("CPU", std::nan("")); }, "SetResource");
  expect_invalid(
      [] { photon::Task(Add).SetResource("GPU", std::numeric_limits<double>::infinity()); },
      "SetResource");
  expect_invalid([] { photon::Task(Add).SetResource("", 1); }, "SetResource");
  expect_invalid(
      [] {
        photon::Task(Add).SetResources({{"CPU", 1}, {"GPU", -0.5}});
      },
      "SetResources");
  expect_invalid([] { photon::Task(Add).SetMaxRetries(-2); }, "SetMaxRetries");
  // Fractional quantities, zero and -1 retries are fine.
  photon::Task(Add).SetResource("CPU", 0.25).SetResource("GPU", 0).SetMaxRetries(-1);
}

// --- objects ---------------------------------------------------------------------------

TEST_F(ApiTest, PutGetRoundTrip) {
  EXPECT_EQ(*photon::Put(42).Get(), 42);
  EXPECT_EQ(*photon::Get(photon::Put(std::string("text"))), "text");
  EXPECT_EQ(*photon::Get(photon::Put(Point{1, 2, "p"}), 1000), (Point{1, 2, "p"}));
  std::unordered_map<std::string, std::vector<double>> table{{"a", {1.5}}, {"b", {}}};
  EXPECT_EQ(*photon::Put(table).Get(), table);
  EXPECT_EQ(*photon::Put(std::optional<int>()).Get(), std::nullopt);
}

TEST_F(ApiTest, GetOfAVectorUsesOneRuntimeCallInInputOrder) {
  std::vector<photon::ObjectRef<int>> refs{photon::Put(1), photon::Task(Add).Remote(1, 1),
                                           photon::Put(3)};
  runtime_.get_calls = 0;
  std::vector<std::shared_ptr<int>> values = photon::Get(refs);
  EXPECT_EQ(runtime_.get_calls, 1);
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(*values[0], 1);
  EXPECT_EQ(*values[1], 2);
  EXPECT_EQ(*values[2], 3);
  EXPECT_TRUE(photon::Get(std::vector<photon::ObjectRef<int>>()).empty());
  EXPECT_EQ(runtime_.get_calls, 1);
}

TEST_F(ApiTest, GetTimesOut) {
  photon::ObjectRef<int> slow = photon::Put(1);
  runtime_.pending.insert(slow.Binary());
  EXPECT_THROW(slow.Get(10), photon::GetTimeoutError);
  EXPECT_THROW(photon::Get(slow, 0), photon::GetTimeoutError);
  EXPECT_THROW(photon::Get(slow, -2), std::invalid_argument);
  EXPECT_THROW(photon::Get(photon::ObjectRef<int>()), std::invalid_argument);
}

TEST_F(ApiTest, WaitKeepsInputOrder) {
  std::vector<photon::ObjectRef<int>> refs{photon::Put(0), photon::Put(1), photon::Put(2),
                                           photon::Put(3)};
  runtime_.pending = {refs[0].Binary(), refs[2].Binary()};
  photon::WaitResult<int> result = photon::Wait(refs, 2, 0);
  EXPECT_EQ(runtime_.last_wait_num_objects, 2);
  EXPECT_THAT(result.ready, ElementsAre(refs[1], refs[3]));
  EXPECT_THAT(result.unready, ElementsAre(refs[0], refs[2]));
  EXPECT_THROW(photon::Wait(refs, 0, 0), std::invalid_argument);
  EXPECT_THROW(photon::Wait(refs, 5, 0), std::invalid_argument);
  EXPECT_THROW(photon::Wait(refs, 1, -5), std::invalid_argument);
  EXPECT_THROW(photon::Wait(std::vector<photon::ObjectRef<int>>(), 1, 0), std::invalid_argument);
  refs.emplace_back();
  EXPECT_THROW(photon::Wait(refs, 1, 0), std::invalid_argument);
}

TEST_F(ApiTest, Cancel) {
  photon::ObjectRef<int> ref = photon::Put(1);
  runtime_.pending.insert(ref.Binary());
  photon::Cancel(ref);
  EXPECT_THAT(runtime_.cancelled, ElementsAre(ref.Binary()));
  EXPECT_THROW(ref.Get(), photon::TaskCancelledError);
  EXPECT_THROW(photon::Cancel(photon::ObjectRef<int>()), std::invalid_argument);
}

TEST_F(ApiTest, ReferenceCounting) {
  std::string id;
  {
    photon::ObjectRef<int> a = photon::Put(1);
    id = a.Binary();
    EXPECT_EQ(runtime_.RefCount(id), 1);
    {
      photon::ObjectRef<int> b = a;  // copy adds
      EXPECT_EQ(runtime_.RefCount(id), 2);
      photon::ObjectRef<int> c = std::move(b);  // move transfers
      EXPECT_TRUE(b.IsNil());
      EXPECT_EQ(runtime_.RefCount(id), 2);
      photon::ObjectRef<int> d;
      d = c;  // copy assignment adds
      EXPECT_EQ(runtime_.RefCount(id), 3);
      d = photon::ObjectRef<int>();  // assignment releases the old object
      EXPECT_EQ(runtime_.RefCount(id), 2);
      c = c;  // self-assignment changes nothing
      EXPECT_EQ(runtime_.RefCount(id), 2);
    }
    EXPECT_EQ(runtime_.RefCount(id), 1);  // destruction removes
    std::vector<photon::ObjectRef<int>> copies(3, a);
    EXPECT_EQ(runtime_.RefCount(id), 4);
  }
  EXPECT_EQ(runtime_.RefCount(id), 0);
}

TEST_F(ApiTest, RefsOutliveTheRuntime) {
  auto ref = std::make_unique<photon::ObjectRef<int>>(photon::Put(1));
  std::string id = ref->Binary();
  photon::internal::SetRuntime(nullptr);
  photon::ObjectRef<int> copy = *ref;  // no runtime: nothing to count
  ref.reset();
  EXPECT_THROW(copy.Get(), photon::Error);
  photon::internal::SetRuntime(&runtime_);
  EXPECT_EQ(runtime_.RefCount(id), 1);
}

TEST_F(ApiTest, IdsComparisonAndHashing) {
  photon::ObjectRef<int> a = photon::Put(1);
  photon::ObjectRef<int> b = photon::Put(1);
  photon::ObjectRef<int> nil;
  EXPECT_EQ(a.ID().size(), 80u);
  EXPECT_EQ(a.ID().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a.ID().substr(0, 4), "5a5a");
  EXPECT_EQ(nil.ID(), "");
  EXPECT_TRUE(nil.IsNil());
  EXPECT_EQ(nil, photon::ObjectRef<int>());
  EXPECT_EQ(a, photon::ObjectRef<int>(a));
  EXPECT_NE(a, b);
  EXPECT_TRUE(a < b || b < a);
  std::unordered_set<photon::ObjectRef<int>> set{a, b, a};
  EXPECT_EQ(set.size(), 2u);
}

TEST(ApiWithoutRuntimeTest, CallsBeforeInitThrow) {
  ASSERT_EQ(photon::internal::GetRuntimeOrNull(), nullptr);
  try {
    photon::Put(1);
    FAIL() << "Put did not throw";
  } catch (const photon::Error& e) {
    EXPECT_STREQ(e.what(), "photon::Init has not been called");
  }
  EXPECT_THROW(photon::Task(Add).Remote(1, 2), photon::Error);
}

// --- serialization ---------------------------------------------------------------------

TEST(SerializerTest, RoundTrips) {
  EXPECT_EQ(photon::Deserialize<int>(photon::Serialize(-5)), -5);
  EXPECT_EQ(photon::Deserialize<std::string>(photon::Serialize(std::string("a\0b", 3))),
            std::string("a\0b", 3));
  std::vector<std::pair<int, std::string>> pairs{{1, "one"}, {2, "two"}};
  EXPECT_EQ(
      (photon::Deserialize<std::vector<std::pair<int, std::string>>>(photon::Serialize(pairs))),
      pairs);
  EXPECT_EQ(photon::Deserialize<Point>(photon::Serialize(Point{1, 2, "p"})), (Point{1, 2, "p"}));
}

TEST(SerializerTest, WrongBytesThrowErrorNamingTheType) {
  auto expect_error = [](auto deserialize, const std::string& type) {
    try {
      deserialize();
      ADD_FAILURE() << "no error for " << type;
    } catch (const photon::Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(type));
    }
  };
  std::string text = photon::Serialize(std::string("text"));
  expect_error([&] { photon::Deserialize<int>(text); }, "as int");
  expect_error([&] { photon::Deserialize<Point>(photon::Serialize(3)); }, "Point");
  expect_error([&] { photon::Deserialize<std::vector<int>>(text); }, "std::vector<int");
  expect_error([&] { photon::Deserialize<std::string>(std::string_view()); }, "std::string");
  expect_error([&] { photon::Deserialize<int>(std::string("\xc1")); }, "int");  // never used
  expect_error([&] { photon::Deserialize<int>(photon::Serialize(1) + photon::Serialize(2)); },
               "trailing");
}

// --- the worker-side registry ----------------------------------------------------------

TEST(FunctionRegistryTest, NamesAndLookups) {
  EXPECT_TRUE(photon::internal::IsFunctionRegistered("Add"));
  EXPECT_TRUE(photon::internal::IsFunctionRegistered("geometry::Area"));
  EXPECT_FALSE(photon::internal::IsFunctionRegistered("NotRegistered"));
  std::vector<std::string> names = photon::internal::RegisteredFunctionNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_THAT(names, ::testing::IsSupersetOf({"Add", "Greet", "SumOf<1,2>", "F1", "F6"}));
}

TEST(FunctionRegistryTest, ExecuteFunction) {
  ExecutionResult ok =
      photon::internal::ExecuteFunction("Add", {photon::Serialize(2), photon::Serialize(40)});
  EXPECT_EQ(ok.kind, ExecutionResult::Kind::kOk);
  EXPECT_EQ(photon::Deserialize<int>(ok.value), 42);

  ExecutionResult void_result = photon::internal::ExecuteFunction("Touch", {photon::Serialize(9)});
  EXPECT_EQ(void_result.kind, ExecutionResult::Kind::kOk);
  EXPECT_TRUE(void_result.value.empty());

  ExecutionResult missing = photon::internal::ExecuteFunction("Nope", {});
  EXPECT_EQ(missing.kind, ExecutionResult::Kind::kFunctionNotFound);
  EXPECT_THAT(missing.message, HasSubstr("Nope"));

  ExecutionResult thrown = photon::internal::ExecuteFunction("Throws", {photon::Serialize(1)});
  EXPECT_EQ(thrown.kind, ExecutionResult::Kind::kException);
  EXPECT_EQ(thrown.exception_type, "std::invalid_argument");
  EXPECT_EQ(thrown.message, "bad x: 1");

  ExecutionResult bad_arg = photon::internal::ExecuteFunction(
      "Add", {photon::Serialize(1), photon::Serialize(std::string("two"))});
  EXPECT_EQ(bad_arg.kind, ExecutionResult::Kind::kException);
  EXPECT_EQ(bad_arg.exception_type, "photon::Error");
  EXPECT_THAT(bad_arg.message, HasSubstr("argument 2"));
  EXPECT_THAT(bad_arg.message, HasSubstr("as int"));

  ExecutionResult wrong_count = photon::internal::ExecuteFunction("Add", {photon::Serialize(1)});
  EXPECT_EQ(wrong_count.kind, ExecutionResult::Kind::kException);
  EXPECT_THAT(wrong_count.message, HasSubstr("takes 2 arguments"));
}

TEST(FunctionRegistryTest, ExecuteFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &results] {
      int sum = 0;
      for (int j = 0; j < 200; ++j) {
        ExecutionResult r =
            photon::internal::ExecuteFunction("Add", {photon::Serialize(i), photon::Serialize(j)});
        sum += photon::Deserialize<int>(r.value);
      }
      results[i] = sum;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(results[i], 200 * i + 199 * 200 / 2);
}

TEST(FunctionRegistryTest, SplitRemoteNames) {
  EXPECT_THAT(photon::internal::SplitRemoteNames("f, ns::g,\n &h, T<1, (2)>"),
              ElementsAre("f", "ns::g", "h", "T<1,(2)>"));
}

TEST(FunctionRegistryDeathTest, OneNameForTwoFunctionsAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(photon::internal::RegisterFunction("Add", reinterpret_cast<std::uintptr_t>(&F1),
                                                  &photon::internal::Invoke<int>),
               "'Add' is registered for two different functions");
}

TEST(FunctionRegistryTest, LoadFunctionLibraries) {
  namespace fs = std::filesystem;
  const fs::path plugin = PHOTON_TEST_PLUGIN_PATH;
  ASSERT_FALSE(photon::internal::IsFunctionRegistered("PluginTimesThree"));

  // A folder: its top-level .so files are loaded.
  EXPECT_THAT(photon::internal::LoadFunctionLibraries({plugin.parent_path().string()}),
              ::testing::IsEmpty());
  EXPECT_TRUE(photon::internal::IsFunctionRegistered("PluginTimesThree"));
  EXPECT_TRUE(photon::internal::IsFunctionRegistered("PluginShout"));
  ExecutionResult r = photon::internal::ExecuteFunction("PluginTimesThree", {photon::Serialize(7)});
  ASSERT_EQ(r.kind, ExecutionResult::Kind::kOk) << r.message;
  EXPECT_EQ(photon::Deserialize<int>(r.value), 21);

  // The library itself, again: harmless.
  EXPECT_THAT(photon::internal::LoadFunctionLibraries({plugin.string()}), ::testing::IsEmpty());

  // Failures come back as messages naming the path.
  const fs::path dir = fs::path(::testing::TempDir()) / "photon_api_test_libs";
  fs::create_directories(dir);
  std::ofstream(dir / "bogus.so") << "not a library";
  std::vector<std::string> errors = photon::internal::LoadFunctionLibraries(
      {"/no/such/lib.so", (dir / "bogus.so").string(), dir.string(), plugin.string()});
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_THAT(errors[0], HasSubstr("/no/such/lib.so"));
  EXPECT_THAT(errors[1], HasSubstr("bogus.so"));
  EXPECT_THAT(errors[2], HasSubstr("bogus.so"));
  fs::remove_all(dir);
}

}  // namespace
