#include "photon/gcs/redis_storage.h"

#include <hiredis/hiredis.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "fmt/format.h"
#include "photon/common/logging.h"

namespace photon::gcs {
namespace {

constexpr int kAttempts = 3;

timeval ToTimeval(int64_t ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}

std::string ReplyString(const redisReply* r) { return std::string(r->str, r->len); }

}  // namespace

void RedisGcsStorage::ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

RedisGcsStorage::RedisGcsStorage(RedisOptions options) : options_(std::move(options)) {}

RedisGcsStorage::~RedisGcsStorage() {
  absl::MutexLock lock(&mu_);
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

absl::StatusOr<std::unique_ptr<RedisGcsStorage>> RedisGcsStorage::Connect(RedisOptions options) {
  auto colon = options.address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(options.address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(
        fmt::format("the Redis address '{}' is not HOST:PORT", options.address));
  }
  if (options.storage_namespace.empty()) {
    return absl::InvalidArgumentError("the external storage namespace cannot be empty");
  }
  std::unique_ptr<RedisGcsStorage> s(new RedisGcsStorage(std::move(options)));
  s->host_ = s->options_.address.substr(0, colon);
  s->port_ = port;
  absl::MutexLock lock(&s->mu_);
  if (auto st = s->ConnectLocked(); !st.ok()) return st;
  return s;
}

absl::Status RedisGcsStorage::ConnectLocked() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, ToTimeval(options_.connect_timeout_ms));
  if (ctx_ == nullptr) return absl::ResourceExhaustedError("cannot allocate a Redis connection");
  if (ctx_->err != 0) {
    std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    return absl::UnavailableError(
        fmt::format("cannot reach Redis at {}: {}", options_.address, why));
  }
  redisSetTimeout(ctx_, ToTimeval(options_.command_timeout_ms));
  std::vector<std::string> ping = {"PING"};
  if (!options_.password.empty()) ping = {"AUTH", options_.password};
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : ping) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Reply r(static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!r) {
    std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    return absl::UnavailableError(
        fmt::format("Redis at {} does not answer: {}", options_.address, why));
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string why = ReplyString(r.get());
    redisFree(ctx_);
    ctx_ = nullptr;
    // NOAUTH: a password is needed; WRONGPASS / ERR invalid password: a wrong one.
    return absl::UnauthenticatedError(
        fmt::format("Redis at {} refused the connection: {}", options_.address, why));
  }
  return absl::OkStatus();
}

absl::StatusOr<RedisGcsStorage::Reply> RedisGcsStorage::Command(
    const std::vector<std::string>& args) {
  absl::MutexLock lock(&mu_);
  return CommandLocked(args);
}

absl::StatusOr<RedisGcsStorage::Reply> RedisGcsStorage::CommandLocked(
    const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (ctx_ == nullptr) {
      if (attempt > 0) absl::SleepFor(absl::Milliseconds(100 << attempt));
      last = ConnectLocked();
      if (!last.ok()) continue;
    }
    Reply r(static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!r) {
      // The connection broke (Redis restarted, a timeout): a new one next time.
      last = absl::UnavailableError(
          fmt::format("Redis at {} failed {}: {}", options_.address, args[0], ctx_->errstr));
      redisFree(ctx_);
      ctx_ = nullptr;
      continue;
    }
    if (r->type == REDIS_REPLY_ERROR) {
      return absl::InternalError(fmt::format("Redis at {} refused {}: {}", options_.address,
                                             args[0], ReplyString(r.get())));
    }
    return r;
  }
  return last;
}

std::string RedisGcsStorage::HashKey(const std::string& table) const {
  return fmt::format("photon:{}:{}", options_.storage_namespace, table);
}

absl::StatusOr<bool> RedisGcsStorage::Put(const std::string& table, const std::string& key,
                                          const std::string& value, bool overwrite) {
  auto r = Command({overwrite ? "HSET" : "HSETNX", HashKey(table), key, value});
  if (!r.ok()) return r.status();
  // HSET answers how many fields are new; an overwrite is a write all the same.
  return overwrite ? true : (*r)->integer == 1;
}

absl::StatusOr<std::optional<std::string>> RedisGcsStorage::Get(const std::string& table,
                                                                const std::string& key) {
  auto r = Command({"HGET", HashKey(table), key});
  if (!r.ok()) return r.status();
  if ((*r)->type == REDIS_REPLY_NIL) return std::optional<std::string>();
  return std::optional<std::string>(ReplyString(r->get()));
}

absl::StatusOr<int64_t> RedisGcsStorage::Delete(const std::string& table, const std::string& key,
                                                bool by_prefix) {
  if (!by_prefix) {
    auto r = Command({"HDEL", HashKey(table), key});
    if (!r.ok()) return r.status();
    return static_cast<int64_t>((*r)->integer);
  }
  auto keys = Keys(table, key);
  if (!keys.ok()) return keys.status();
  if (keys->empty()) return 0;
  std::vector<std::string> args = {"HDEL", HashKey(table)};
  args.insert(args.end(), keys->begin(), keys->end());
  auto r = Command(args);
  if (!r.ok()) return r.status();
  return static_cast<int64_t>((*r)->integer);
}

absl::StatusOr<std::vector<std::string>> RedisGcsStorage::Keys(const std::string& table,
                                                               const std::string& prefix) {
  // HKEYS and a prefix test here: keys are binary (an HSCAN MATCH pattern
  // would have to escape glob characters in them).
  auto r = Command({"HKEYS", HashKey(table)});
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (size_t i = 0; i < (*r)->elements; ++i) {
    std::string k = ReplyString((*r)->element[i]);
    if (k.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(k));
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RedisGcsStorage::GetAll(
    const std::string& table) {
  auto r = Command({"HGETALL", HashKey(table)});
  if (!r.ok()) return r.status();
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i + 1 < (*r)->elements; i += 2) {
    out.emplace_back(ReplyString((*r)->element[i]), ReplyString((*r)->element[i + 1]));
  }
  return out;
}

}  // namespace photon::gcs
