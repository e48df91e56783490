// Helpers shared by the runtime integration tests (tests/runtime/*_test.cc).
//
// These tests run the real daemons (photon-gcs, photon-raylet) and real
// worker processes. A worker is the test binary itself started again by a
// raylet, so each test binary has its own main() (PHOTON_RUNTIME_TEST_MAIN)
// that serves tasks when PHOTON_RAYLET_ADDRESS is set.
//
// Every test starts and stops its own cluster. Sessions go under a folder of
// their own per test process (PHOTON_SESSION_DIR_ROOT, set by main), which is
// removed when every test passed and kept (and named) otherwise.
#pragma once

#include <gtest/gtest.h>
#include <photon/api.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace photon_test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- session root --------------------------------------------------------------

// The folder this test process puts its sessions under (PHOTON_SESSION_DIR_ROOT).
inline std::string SessionRoot() {
  const char* root = std::getenv("PHOTON_SESSION_DIR_ROOT");
  return root != nullptr ? root : "/tmp/photon";
}

// Points PHOTON_SESSION_DIR_ROOT at /tmp/photon-tests/<binary>-<pid> (unless the
// caller already set it). Only variables of docs/config.md may be set.
inline void SetUpSessionRoot(const char* argv0) {
  if (std::getenv("PHOTON_SESSION_DIR_ROOT") != nullptr) return;
  std::string root =
      "/tmp/photon-tests/" + fs::path(argv0).filename().string() + "-" + std::to_string(getpid());
  setenv("PHOTON_SESSION_DIR_ROOT", root.c_str(), 1);
}

// Removes this process's session root if every test passed; otherwise says where it is.
inline void FinishSessionRoot(bool passed) {
  std::string root = SessionRoot();
  if (root.rfind("/tmp/photon-tests/", 0) != 0) return;  // not ours: leave it alone
  std::error_code ec;
  if (!fs::exists(root, ec)) return;
  if (passed) {
    fs::remove_all(root, ec);
  } else {
    std::fprintf(stderr, "runtime test: sessions and logs kept in %s\n", root.c_str());
  }
}

// Session folders (full paths) under the session root.
inline std::vector<std::string> ListSessions() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(SessionRoot(), ec)) {
    if (e.path().filename().string().rfind("session_", 0) == 0) out.push_back(e.path().string());
  }
  return out;
}

// A new empty folder for one test's files (markers, pid files), under the session root.
inline std::string MakeScratchDir(const std::string& tag) {
  fs::create_directories(SessionRoot());
  std::string tmpl = SessionRoot() + "/scratch-" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return "";
  return std::string(buf.data());
}

// ---- files -----------------------------------------------------------------------

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Writes `content` to `path` atomically (readers never see a partial file).
inline bool WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return false;
    f << content;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// Polls until `path` exists (true) or `timeout_ms` passes (false).
inline bool WaitForFile(const std::string& path, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return access(path.c_str(), F_OK) == 0;
}

// Regular files in `dir` (names), or empty if it does not exist.
inline std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}

// ---- processes -------------------------------------------------------------------

// "<pid>: <cmdline>" of every process (other than this one) whose command line or
// environment contains `needle`. Processes of other users are skipped (unreadable).
inline std::vector<std::string> ProcessesMentioning(const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (std::stoi(name) == getpid()) continue;
    std::string cmdline = ReadFile(e.path().string() + "/cmdline");
    std::string environ = ReadFile(e.path().string() + "/environ");
    if (cmdline.find(needle) != std::string::npos || environ.find(needle) != std::string::npos) {
      for (char& c : cmdline) {
        if (c == '\0') c = ' ';
      }
      out.push_back(name + ": " + cmdline);
    }
  }
  return out;
}

// "<pid> <state> <comm>" of every child of this process (zombies included).
inline std::vector<std::string> ChildProcesses() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ReadFile(e.path().string() + "/stat");
    size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == getpid()) {
      out.push_back(name + " " + state + " " + stat.substr(0, close_paren + 1));
    }
  }
  return out;
}

// Entries of /dev/shm whose name contains `needle`.
inline std::vector<std::string> ShmEntriesMentioning(const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& name : FilesIn("/dev/shm")) {
    if (name.find(needle) != std::string::npos) out.push_back("/dev/shm/" + name);
  }
  return out;
}

inline std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += "\n  " + s;
  return out.empty() ? " (none)" : out;
}

// ---- data ------------------------------------------------------------------------

// `n` pseudo-random bytes determined by `seed` (the same in every process).
inline std::vector<uint8_t> MakeBytes(int64_t n, uint64_t seed) {
  std::vector<uint8_t> out(static_cast<size_t>(n));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < out.size(); i += 8) {
    x += 0x9E3779B97F4A7C15ull;  // splitmix64
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    for (size_t b = 0; b < 8 && i + b < out.size(); ++b) out[i + b] = uint8_t(z >> (8 * b));
  }
  return out;
}

inline uint64_t Fnv1a(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// The raylet (host:port) that started this process, or "driver".
inline std::string ThisRaylet() {
  const char* a = std::getenv("PHOTON_RAYLET_ADDRESS");
  return a != nullptr ? a : "driver";
}

// ---- fixtures --------------------------------------------------------------------

// A test with a private local cluster started by photon::Init(config); Shutdown in
// TearDown, also when the test fails.
class LocalClusterTest : public ::testing::Test {
 protected:
  void StartCluster(const photon::Config& config) { photon::Init(config); }
  void StartCluster(double num_cpus) {
    photon::Config config;
    config.num_cpus = num_cpus;
    photon::Init(config);
  }
  void TearDown() override { photon::Shutdown(); }
};

// ---- known bugs ----------------------------------------------------------------------

// Tests that reproduce a known runtime bug are skipped (with the bug's description) so
// the suite stays green; set RUNTIME_TEST_RUN_KNOWN_BUGS=1 to run them. (Not a PHOTON_*
// variable: the runtime rejects unknown ones.)
inline bool RunKnownBugs() { return std::getenv("RUNTIME_TEST_RUN_KNOWN_BUGS") != nullptr; }
#define SKIP_KNOWN_BUG(description)   \
  if (!::photon_test::RunKnownBugs()) \
  GTEST_SKIP() << "known runtime bug (set RUNTIME_TEST_RUN_KNOWN_BUGS=1 to run): " << description

// ---- scenarios: a driver in a child process ----------------------------------------------

// A scenario is a driver program that runs in a child process (this binary started with
// `--scenario <name>`), for behavior that would take the test process down with it, such
// as a crash in the driver. Returns the exit code.
inline std::map<std::string, std::function<int()>>& Scenarios() {
  static std::map<std::string, std::function<int()>> scenarios;
  return scenarios;
}
struct ScenarioRegistrar {
  ScenarioRegistrar(const char* name, std::function<int()> fn) { Scenarios()[name] = fn; }
};

// Runs scenario `name` in a child process; returns its wait status and fills `output`
// with its stdout and stderr.
inline int RunScenarioInChild(const std::string& name, std::string* output) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string command = self + " --scenario " + name + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  return pclose(pipe);
}

inline int RunScenarioMain(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--scenario") != 0) return -1;
  auto it = Scenarios().find(argv[2]);
  if (it == Scenarios().end()) {
    std::fprintf(stderr, "unknown scenario %s\n", argv[2]);
    return 2;
  }
  try {
    return it->second();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scenario %s: %s\n", argv[2], e.what());
    return 3;
  }
}

}  // namespace photon_test

// The main() of a runtime test binary: in a worker (started by a raylet), serve
// tasks forever; with `--scenario <name>`, run that scenario; otherwise run the tests.
#define PHOTON_RUNTIME_TEST_MAIN()                                \
  int main(int argc, char** argv) {                               \
    if (std::getenv("PHOTON_RAYLET_ADDRESS") != nullptr) {        \
      photon::Init(); /* a worker: serves tasks, never returns */ \
    }                                                             \
    photon_test::SetUpSessionRoot(argv[0]);                       \
    if (argc > 1 && std::strcmp(argv[1], "--scenario") == 0) {    \
      return photon_test::RunScenarioMain(argc, argv);            \
    }                                                             \
    ::testing::InitGoogleTest(&argc, argv);                       \
    int rc = RUN_ALL_TESTS();                                     \
    photon_test::FinishSessionRoot(rc == 0);                      \
    return rc;                                                    \
  }                                                               \
  static_assert(true, "")
