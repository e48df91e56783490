// Protects an object from RPC callbacks that arrive after it is gone.
//
// Callbacks capture a std::shared_ptr<CallbackGuard> (which outlives the
// object) and call Enter() first: it returns a token while the object is
// open, or nullopt after Close(). Close() refuses new entries and waits until
// every token is released, so after it returns no callback touches the object.
// Thread-safe. Callbacks must not block while holding a token.
#pragma once

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace photon {

class CallbackGuard {
 public:
  class Token {
   public:
    explicit Token(CallbackGuard* g) : g_(g) {}
    Token(Token&& o) noexcept : g_(o.g_) { o.g_ = nullptr; }
    Token(const Token&) = delete;
    ~Token() {
      if (g_ != nullptr) g_->Leave();
    }

   private:
    CallbackGuard* g_;
  };

  std::optional<Token> Enter() {
    absl::MutexLock lock(&mu_);
    if (closed_) return std::nullopt;
    ++active_;
    return Token(this);
  }

  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
    mu_.Await(absl::Condition(&idle));
  }

  bool closed() const {
    absl::MutexLock lock(&mu_);
    return closed_;
  }

 private:
  void Leave() {
    absl::MutexLock lock(&mu_);
    --active_;
  }
  mutable absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int active_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace photon
