#include "photon/object_store/object_store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "fmt/format.h"

namespace photon {
namespace {

// File layout: [u64 metadata_size][u64 data_offset][metadata][padding][data];
// data starts on a 64-byte boundary so that arrays mapped from it are aligned.
constexpr size_t kHeader = 2 * sizeof(uint64_t);
constexpr size_t kAlign = 64;

size_t DataOffset(size_t metadata_size) {
  return (kHeader + metadata_size + kAlign - 1) / kAlign * kAlign;
}

struct Mapping {
  void* addr = nullptr;
  size_t len = 0;
  ~Mapping() {
    if (addr != nullptr && addr != MAP_FAILED) munmap(addr, len);
  }
};

absl::Status ErrnoStatus(const std::string& what) {
  int e = errno;
  std::string msg = fmt::format("{}: {}", what, std::strerror(e));
  if (e == ENOSPC || e == ENOMEM) return absl::ResourceExhaustedError(msg);
  if (e == ENOENT) return absl::NotFoundError(msg);
  if (e == EEXIST) return absl::AlreadyExistsError(msg);
  return absl::InternalError(msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ObjectStore>> ObjectStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::InternalError(
        fmt::format("cannot create object store folder {}: {}", dir, ec.message()));
  }
  return std::unique_ptr<ObjectStore>(new ObjectStore(dir));
}

ObjectStore::~ObjectStore() = default;

std::string ObjectStore::PathOf(const ObjectID& id) const {
  return fmt::format("{}/{}", dir_, id.Hex());
}

absl::Status ObjectStore::Put(const ObjectID& id, std::string_view metadata,
                              std::string_view data) {
  return PutWith(id, metadata, data.size(),
                 [&](char* dst) { std::memcpy(dst, data.data(), data.size()); });
}

absl::Status ObjectStore::PutWith(const ObjectID& id, std::string_view metadata, size_t data_size,
                                  const std::function<void(char*)>& fill) {
  std::string final_path = PathOf(id);
  if (access(final_path.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(fmt::format("object {} is already in the store", id.Hex()));
  }
  // A unique temporary name: two writers of the same object (a retried task)
  // must not corrupt each other; the first rename wins.
  std::string tmp = fmt::format("{}.{}.{}.tmp", final_path, getpid(), gettid());
  int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(fmt::format("cannot create object {}", id.Hex()));
  size_t data_offset = DataOffset(metadata.size());
  size_t total = data_offset + data_size;
  // posix_fallocate reserves the pages now, so a full tmpfs fails here with
  // ENOSPC instead of a SIGBUS on write.
  int rc = posix_fallocate(fd, 0, static_cast<off_t>(total));
  if (rc != 0) {
    close(fd);
    unlink(tmp.c_str());
    errno = rc;
    return ErrnoStatus(
        fmt::format("no room for object {} of {} bytes in {}", id.Hex(), total, dir_));
  }
  Mapping m;
  m.len = total;
  m.addr = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (m.addr == MAP_FAILED) {
    unlink(tmp.c_str());
    return ErrnoStatus(fmt::format("cannot map object {}", id.Hex()));
  }
  char* base = static_cast<char*>(m.addr);
  uint64_t header[2] = {metadata.size(), data_offset};
  std::memcpy(base, header, kHeader);
  std::memcpy(base + kHeader, metadata.data(), metadata.size());
  fill(base + data_offset);
  if (rename(tmp.c_str(), final_path.c_str()) != 0) {
    unlink(tmp.c_str());
    return ErrnoStatus(fmt::format("cannot seal object {}", id.Hex()));
  }
  return absl::OkStatus();
}

absl::StatusOr<StoredObject> ObjectStore::Get(const ObjectID& id) const {
  int fd = open(PathOf(id).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(fmt::format("object {} is not in this node's store", id.Hex()));
    }
    return ErrnoStatus(fmt::format("cannot open object {}", id.Hex()));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return ErrnoStatus("fstat");
  }
  auto m = std::make_shared<Mapping>();
  m->len = static_cast<size_t>(st.st_size);
  m->addr = mmap(nullptr, m->len, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (m->addr == MAP_FAILED || m->len < kHeader) {
    return absl::DataLossError(fmt::format("object {} is unreadable", id.Hex()));
  }
  const char* base = static_cast<const char*>(m->addr);
  uint64_t header[2];
  std::memcpy(header, base, kHeader);
  uint64_t meta_size = header[0], data_offset = header[1];
  if (kHeader + meta_size > data_offset || data_offset > m->len) {
    return absl::DataLossError(fmt::format("object {} has a corrupt header", id.Hex()));
  }
  StoredObject out;
  out.metadata = std::string_view(base + kHeader, meta_size);
  out.data = std::string_view(base + data_offset, m->len - data_offset);
  out.holder = m;
  return out;
}

bool ObjectStore::Contains(const ObjectID& id) const {
  return access(PathOf(id).c_str(), F_OK) == 0;
}

absl::StatusOr<int64_t> ObjectStore::Size(const ObjectID& id) const {
  struct stat st;
  if (stat(PathOf(id).c_str(), &st) != 0) {
    return absl::NotFoundError(fmt::format("object {} is not in this node's store", id.Hex()));
  }
  return static_cast<int64_t>(st.st_size);
}

absl::Status ObjectStore::Delete(const ObjectID& id) {
  if (unlink(PathOf(id).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus(fmt::format("cannot delete object {}", id.Hex()));
  }
  return absl::OkStatus();
}

void ObjectStore::DeleteAll() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace photon
