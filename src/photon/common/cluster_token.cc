#include "photon/common/cluster_token.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon {

std::string GenerateClusterToken() {
  // From the kernel's CSPRNG: the token is a secret, not just unique.
  uint8_t b[32];
  size_t got = 0;
  while (got < sizeof(b)) {
    ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
    if (n < 0 && errno == EINTR) continue;
    PHOTON_CHECK(n > 0, "getrandom failed: {}", std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  std::string s;
  s.reserve(64);
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

absl::Status ValidateClusterToken(std::string_view token) {
  if (token.size() < 16 || token.size() > 256) {
    return absl::InvalidArgumentError(fmt::format(
        "the cluster token must be 16 to 256 characters long, this one has {}", token.size()));
  }
  for (char c : token) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return absl::InvalidArgumentError(
          "the cluster token may hold only letters, digits, '_', '.' and '-'");
    }
  }
  return absl::OkStatus();
}

absl::Status WriteTokenFile(const std::string& path, const std::string& token) {
  // Created 0600 before the token is written into it, so that it is never
  // readable by others, not even for a moment; then renamed into place.
  std::string tmp = fmt::format("{}.{}.tmp", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  std::string content = token + "\n";
  bool ok = fchmod(fd, 0600) == 0 &&
            write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(fmt::format("cannot read the cluster token file {}", path));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string token(absl::StripAsciiWhitespace(ss.str()));
  if (auto s = ValidateClusterToken(token); !s.ok()) {
    return absl::InvalidArgumentError(fmt::format("{}: {}", path, std::string(s.message())));
  }
  return token;
}

bool TokensMatch(std::string_view presented, std::string_view expected) {
  if (presented.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) diff |= presented[i] ^ expected[i];
  return diff == 0;
}

}  // namespace photon
