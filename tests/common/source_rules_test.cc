// Rules of the code base that a compiler does not check, checked over the
// sources in src/: each rule names a mistake that once cost a hang or a race.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Source {
  std::string path;
  std::string text;
};

std::vector<Source> CppSources() {
  namespace fs = std::filesystem;
  std::vector<Source> out;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(PHOTON_SOURCE_DIR) / "src")) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    if (ext != ".cc" && ext != ".h") continue;
    std::ifstream f(entry.path());
    std::stringstream ss;
    ss << f.rdbuf();
    out.push_back({entry.path().lexically_relative(PHOTON_SOURCE_DIR).string(), ss.str()});
  }
  return out;
}

// The file cut into its top-level definitions (at a "}" that starts a line).
std::vector<std::string> TopLevelBlocks(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t pos = text.find("\n}"); pos != std::string::npos; pos = text.find("\n}", pos + 2)) {
    out.push_back(text.substr(start, pos - start));
    start = pos + 2;
  }
  out.push_back(text.substr(start));
  return out;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size()))
    ++n;
  return n;
}

// grpc::CallbackServerContext::DefaultReactor() constructs the reactor anew
// each time it is called: a second call in one handler silently drops a
// Finish already made on it, and the caller waits forever.
TEST(SourceRulesTest, AHandlerAsksForItsDefaultReactorOnce) {
  for (const auto& s : CppSources()) {
    for (const auto& block : TopLevelBlocks(s.text)) {
      EXPECT_LE(Count(block, "DefaultReactor()"), 1u)
          << s.path << ": a function calls DefaultReactor() more than once:\n"
          << block.substr(0, 200);
    }
  }
}

// Background work runs on the timer (common/timer.h) or on a thread that is
// joined on Stop: a detached thread outlives the object it captured.
TEST(SourceRulesTest, NoDetachedThreads) {
  for (const auto& s : CppSources()) {
    EXPECT_EQ(Count(s.text, ".detach()"), 0u) << s.path << " detaches a thread";
  }
}

// Every call presents the cluster token: each context made in src/ is readied
// by rpc::PrepareCall or given the token by rpc::AttachClusterToken.
TEST(SourceRulesTest, EveryCallContextCarriesTheClusterToken) {
  const std::regex made(R"(grpc::ClientContext\s+[a-z_]+\s*;|make_shared<grpc::ClientContext>)");
  for (const auto& s : CppSources()) {
    if (s.path.rfind("src/", 0) != 0) continue;
    size_t contexts = std::distance(std::sregex_iterator(s.text.begin(), s.text.end(), made),
                                    std::sregex_iterator());
    size_t readied = Count(s.text, "PrepareCall(") + Count(s.text, "AttachClusterToken(");
    EXPECT_LE(contexts, readied) << s.path << " makes a grpc::ClientContext that no PrepareCall "
                                 << "or AttachClusterToken gives the cluster token";
  }
}

// Every RPC deadline comes from a config row (config_def.h), never a number
// written at the call.
TEST(SourceRulesTest, NoLiteralRpcTimeouts) {
  const std::regex literal_timeout(
      R"((PrepareCall\([^;]*,\s*-?[0-9]+\s*\))|(Call(Sync|Async)\([^;]*,\s*-?[0-9]+\s*[,)]))");
  for (const auto& s : CppSources()) {
    if (s.path == "src/photon/rpc/client.h") continue;  // where the helpers are defined
    std::smatch m;
    EXPECT_FALSE(std::regex_search(s.text, m, literal_timeout))
        << s.path << " passes a literal RPC timeout: " << m.str();
  }
}

}  // namespace
