#include "photon/gcs/gcs_storage.h"

namespace photon::gcs {

absl::StatusOr<bool> InMemoryGcsStorage::Put(const std::string& table, const std::string& key,
                                             const std::string& value, bool overwrite) {
  absl::MutexLock lock(&mu_);
  auto& t = tables_[table];
  auto [it, inserted] = t.try_emplace(key, value);
  if (!inserted) {
    if (!overwrite) return false;
    it->second = value;
  }
  return true;
}

absl::StatusOr<std::optional<std::string>> InMemoryGcsStorage::Get(const std::string& table,
                                                                   const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto t = tables_.find(table);
  if (t == tables_.end()) return std::optional<std::string>();
  auto it = t->second.find(key);
  if (it == t->second.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::StatusOr<int64_t> InMemoryGcsStorage::Delete(const std::string& table, const std::string& key,
                                                   bool by_prefix) {
  absl::MutexLock lock(&mu_);
  auto t = tables_.find(table);
  if (t == tables_.end()) return 0;
  if (!by_prefix) return static_cast<int64_t>(t->second.erase(key));
  int64_t n = 0;
  for (auto it = t->second.lower_bound(key);
       it != t->second.end() && it->first.compare(0, key.size(), key) == 0;) {
    it = t->second.erase(it);
    ++n;
  }
  return n;
}

absl::StatusOr<std::vector<std::string>> InMemoryGcsStorage::Keys(const std::string& table,
                                                                  const std::string& prefix) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  auto t = tables_.find(table);
  if (t == tables_.end()) return out;
  for (auto it = t->second.lower_bound(prefix);
       it != t->second.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->first);
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> InMemoryGcsStorage::GetAll(
    const std::string& table) {
  absl::MutexLock lock(&mu_);
  std::vector<std::pair<std::string, std::string>> out;
  auto t = tables_.find(table);
  if (t == tables_.end()) return out;
  out.assign(t->second.begin(), t->second.end());
  return out;
}

}  // namespace photon::gcs
