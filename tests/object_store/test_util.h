// Helpers shared by the object store tests: temporary folders, deterministic
// contents and their hashes, forked children that are always reaped, unique
// socket names.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace photon::object_store::ostest {

// A fresh folder under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/photon-ostest-XXXXXX";
    char* p = mkdtemp(tmpl);
    if (p != nullptr) path_ = p;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Regular files directly in `dir` (0 if it does not exist).
inline size_t CountFiles(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return 0;
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) ++n;
  }
  return n;
}

// Deterministic pseudo-random bytes (splitmix64 stream) from `seed`.
inline uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline void FillPattern(char* dst, size_t n, uint64_t seed) {
  uint64_t state = seed * 0x2545f4914f6cdd1dULL + 1;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w = SplitMix(state);
    std::memcpy(dst + i, &w, 8);
  }
  if (i < n) {
    uint64_t w = SplitMix(state);
    std::memcpy(dst + i, &w, n - i);
  }
}

inline std::string Pattern(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  FillPattern(s.data(), n, seed);
  return s;
}

// A fast 64-bit hash of bytes (four independent lanes; test use only).
inline uint64_t HashBytes(const char* p, size_t n) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ULL;
  uint64_t h[4] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL,
                   0x082efa98ec4e6c89ULL};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      std::memcpy(&w, p + i + 8 * l, 8);
      h[l] = (h[l] ^ w) * kMul;
      h[l] ^= h[l] >> 29;
    }
  }
  uint64_t out = n * kMul;
  for (; i < n; ++i) out = (out ^ static_cast<unsigned char>(p[i])) * 0x100000001b3ULL;
  for (int l = 0; l < 4; ++l) {
    out ^= h[l] + 0x9e3779b97f4a7c15ULL + (out << 6) + (out >> 2);
    out *= kMul;
    out ^= out >> 31;
  }
  return out;
}
inline uint64_t HashBytes(std::string_view s) { return HashBytes(s.data(), s.size()); }

// A socket name no other test (or test process) uses.
inline std::string UniqueSocketName(const std::string& tag) {
  static std::atomic<int> counter{0};
  return "photon-ostest-" + tag + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Polls `cond` every 2 ms until it holds or `timeout_ms` passes.
inline bool WaitFor(const std::function<bool()>& cond, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Both ends of a pipe, closed on destruction.
class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) == 0) {
      read_fd_ = fds[0];
      write_fd_ = fds[1];
    }
  }
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;

  bool ok() const { return read_fd_ >= 0 && write_fd_ >= 0; }
  int read_fd() const { return read_fd_; }
  int write_fd() const { return write_fd_; }
  void CloseRead() {
    if (read_fd_ >= 0) close(read_fd_);
    read_fd_ = -1;
  }
  void CloseWrite() {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = -1;
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

inline bool WriteAllFd(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads exactly `n` bytes, giving up after `timeout_ms` (false) or at EOF.
inline bool ReadAllFd(int fd, void* p, size_t n, int timeout_ms) {
  char* c = static_cast<char*>(p);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (n > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int r = poll(&pfd, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t got = read(fd, c, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    c += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

// A forked child: SIGKILLed and reaped when the guard goes, whatever happened
// to the test.
class ChildProcess {
 public:
  // Forks and runs `body` in the child, which then _exits with its result.
  // The child dies with the test process (PR_SET_PDEATHSIG).
  static ChildProcess Fork(const std::function<int()>& body) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(111);
      int code = body();
      _exit(code);
    }
    return ChildProcess(pid);
  }

  ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess() { Kill(); }

  pid_t pid() const { return pid_; }
  bool ok() const { return pid_ > 0; }

  // SIGKILL and reap; returns the wait status (or -1 if there was no child).
  int Kill() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGKILL);
    return Reap();
  }
  // Waits up to `timeout_ms` for the child to exit by itself; kills it if it
  // does not. Returns the wait status.
  int Wait(int timeout_ms) {
    if (pid_ <= 0) return -1;
    int status = 0;
    bool exited = WaitFor(
        [&] {
          pid_t r = waitpid(pid_, &status, WNOHANG);
          return r == pid_ || (r < 0 && errno != EINTR);
        },
        timeout_ms);
    if (exited) {
      pid_ = -1;
      return status;
    }
    return Kill();
  }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  int Reap() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }
  pid_t pid_;
};

inline bool ExitedWith(int status, int code) {
  return WIFEXITED(status) && WEXITSTATUS(status) == code;
}

}  // namespace photon::object_store::ostest
