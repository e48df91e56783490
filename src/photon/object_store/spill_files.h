// Spill files of one node's object store: many objects fused into each file
// under the session folder, each file removed once none of its objects is
// still wanted.
//
// Thread-safe (one mutex); WriteFused and Read block on disk I/O without
// holding it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace photon::object_store {

// Where a spilled object lives: `size` bytes (metadata then data) at `offset`
// in file `file_id`.
struct SpillLocation {
  uint64_t file_id = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

class SpillFiles {
 public:
  // One object's bytes to spill: its metadata, then its data.
  struct Piece {
    const char* metadata;
    uint64_t metadata_size;
    const char* data;
    uint64_t data_size;
  };

  // Files go into `dir` (created on first use).
  explicit SpillFiles(std::string dir) : dir_(std::move(dir)) {}
  // Removes every spill file and the folder.
  ~SpillFiles();

  // Writes `pieces` into one new file, one reference per piece. Fails with
  // ResourceExhausted naming the folder if the disk is full (nothing is kept).
  absl::StatusOr<std::vector<SpillLocation>> WriteFused(const std::vector<Piece>& pieces);
  // Reads `n` bytes starting `pos` bytes into the object at `loc`.
  absl::Status Read(const SpillLocation& loc, uint64_t pos, char* dst, uint64_t n);
  // References keep a file: one per object in it, plus one per reader that
  // must not see it vanish. The file goes with the last reference.
  void Ref(uint64_t file_id);
  void Unref(uint64_t file_id);

  uint64_t bytes_on_disk() const;
  uint64_t num_files() const;
  const std::string& dir() const { return dir_; }

 private:
  struct File {
    std::string path;
    int fd = -1;
    uint64_t size = 0;
    int64_t refs = 0;
  };
  std::string dir_;
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, File> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace photon::object_store
