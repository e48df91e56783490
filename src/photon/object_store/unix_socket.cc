#include "photon/object_store/unix_socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "fmt/format.h"

namespace photon::object_store {
namespace {

constexpr uint32_t kMaxFrame = 64u << 20;

absl::StatusOr<sockaddr_un> AbstractAddress(const std::string& name, socklen_t* len) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.empty() || name.size() + 1 > sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(fmt::format("bad store socket name '{}'", name));
  }
  addr.sun_path[0] = '\0';
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return addr;
}

absl::Status Errno(const std::string& what) {
  int e = errno;
  if (e == EPIPE || e == ECONNRESET || e == ECONNREFUSED || e == ENOENT) {
    return absl::UnavailableError(fmt::format("{}: {}", what, strerror(e)));
  }
  return absl::InternalError(fmt::format("{}: {}", what, strerror(e)));
}

absl::Status ReadFull(int sock, char* p, size_t n, int* received_fd) {
  while (n > 0) {
    iovec iov{p, n};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (received_fd != nullptr) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
    }
    ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("store socket read");
    if (r == 0) return absl::UnavailableError("the store connection closed");
    if (received_fd != nullptr) {
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
          std::memcpy(received_fd, CMSG_DATA(c), sizeof(int));
        }
      }
      received_fd = nullptr;  // a descriptor rides on the first bytes only
    }
    p += r;
    n -= static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> ListenUnix(const std::string& name) {
  socklen_t len = 0;
  auto addr = AbstractAddress(name, &len);
  if (!addr.ok()) return addr.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&*addr), len) != 0 || listen(fd, 128) != 0) {
    absl::Status s = Errno(fmt::format("cannot listen on store socket '{}'", name));
    close(fd);
    return s;
  }
  return fd;
}

absl::StatusOr<int> ConnectUnix(const std::string& name) {
  socklen_t len = 0;
  auto addr = AbstractAddress(name, &len);
  if (!addr.ok()) return addr.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&*addr), len) != 0) {
    absl::Status s = Errno(fmt::format("cannot connect to the object store at '{}'", name));
    close(fd);
    return s;
  }
  return fd;
}

absl::Status SendFrame(int sock, const std::string& payload, int pass_fd) {
  uint32_t n = static_cast<uint32_t>(payload.size());
  iovec iov[2] = {{&n, sizeof(n)}, {const_cast<char*>(payload.data()), payload.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
  }
  size_t total = sizeof(n) + payload.size();
  size_t sent = 0;
  while (sent < total) {
    ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("store socket write");
    sent += static_cast<size_t>(r);
    if (sent >= total) break;
    // Partial write: continue with the remaining bytes, no descriptor.
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
    size_t skip = sent;
    int i = 0;
    while (skip >= iov[i].iov_len) skip -= iov[i++].iov_len;
    iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + skip;
    iov[i].iov_len -= skip;
    msg.msg_iov = &iov[i];
    msg.msg_iovlen = static_cast<size_t>(2 - i);
  }
  return absl::OkStatus();
}

absl::Status RecvFrame(int sock, std::string* payload, int* received_fd) {
  if (received_fd != nullptr) *received_fd = -1;
  uint32_t n = 0;
  if (auto s = ReadFull(sock, reinterpret_cast<char*>(&n), sizeof(n), received_fd); !s.ok()) {
    return s;
  }
  if (n > kMaxFrame) {
    return absl::InvalidArgumentError(fmt::format("store frame of {} bytes is too large", n));
  }
  payload->resize(n);
  return ReadFull(sock, payload->data(), n, nullptr);
}

}  // namespace photon::object_store
