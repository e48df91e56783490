#include "photon/object_store/spill_files.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "fmt/format.h"

namespace photon::object_store {
namespace {

absl::Status WriteAll(int fd, const char* p, uint64_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = write(fd, p, std::min<uint64_t>(n, 1u << 30));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      std::string msg = fmt::format("cannot write spill file {}: {}", path, strerror(e));
      if (e == ENOSPC || e == EDQUOT) return absl::ResourceExhaustedError(msg);
      return absl::InternalError(msg);
    }
    p += w;
    n -= static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

}  // namespace

SpillFiles::~SpillFiles() {
  absl::MutexLock lock(&mu_);
  for (auto& [id, f] : files_) {
    close(f.fd);
    unlink(f.path.c_str());
  }
  files_.clear();
  std::error_code ec;
  std::filesystem::remove(dir_, ec);
}

absl::StatusOr<std::vector<SpillLocation>> SpillFiles::WriteFused(
    const std::vector<Piece>& pieces) {
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create spill folder {}: {}", dir_, ec.message()));
  }
  std::string path = fmt::format("{}/spill-{:06d}.bin", dir_, id);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(
        fmt::format("cannot create spill file {}: {}", path, strerror(errno)));
  }
  std::vector<SpillLocation> locs;
  uint64_t offset = 0;
  for (const Piece& p : pieces) {
    absl::Status s = WriteAll(fd, p.metadata, p.metadata_size, path);
    if (s.ok()) s = WriteAll(fd, p.data, p.data_size, path);
    if (!s.ok()) {
      close(fd);
      unlink(path.c_str());
      return s;
    }
    locs.push_back({id, offset, p.metadata_size + p.data_size});
    offset += p.metadata_size + p.data_size;
  }
  absl::MutexLock lock(&mu_);
  files_[id] = File{path, fd, offset, static_cast<int64_t>(pieces.size())};
  return locs;
}

absl::Status SpillFiles::Read(const SpillLocation& loc, uint64_t pos, char* dst, uint64_t n) {
  int fd;
  std::string path;
  {
    absl::MutexLock lock(&mu_);
    auto it = files_.find(loc.file_id);
    if (it == files_.end()) {
      return absl::NotFoundError(fmt::format("spill file {} is gone", loc.file_id));
    }
    fd = it->second.fd;  // stays open: the caller holds a reference
    path = it->second.path;
  }
  uint64_t off = loc.offset + pos;
  while (n > 0) {
    ssize_t r = pread(fd, dst, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      return absl::DataLossError(fmt::format("cannot read spill file {} at {}: {}", path, off,
                                             r == 0 ? "unexpected end" : strerror(errno)));
    }
    dst += r;
    off += static_cast<uint64_t>(r);
    n -= static_cast<uint64_t>(r);
  }
  return absl::OkStatus();
}

void SpillFiles::Ref(uint64_t file_id) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(file_id);
  if (it != files_.end()) ++it->second.refs;
}

void SpillFiles::Unref(uint64_t file_id) {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(file_id);
  if (it == files_.end() || --it->second.refs > 0) return;
  close(it->second.fd);
  unlink(it->second.path.c_str());
  files_.erase(it);
}

uint64_t SpillFiles::bytes_on_disk() const {
  absl::MutexLock lock(&mu_);
  uint64_t total = 0;
  for (const auto& [id, f] : files_) total += f.size;
  return total;
}

uint64_t SpillFiles::num_files() const {
  absl::MutexLock lock(&mu_);
  return files_.size();
}

}  // namespace photon::object_store
