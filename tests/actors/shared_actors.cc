#include "shared_actors.h"

#include <photon/api.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

namespace actors_test {

Counter* Counter::Create(int start) { return new Counter(start); }

int Counter::Add(int x) { return value_ += x; }

int Counter::Get() const { return value_; }

int Counter::Pid() const { return static_cast<int>(getpid()); }

bool Counter::WasRestarted() const { return photon::WasCurrentActorRestarted(); }

int Counter::Block(std::string marker, int sleep_ms) {
  // Written atomically: the test polls for the file.
  std::string tmp = marker + ".tmp." + std::to_string(getpid());
  if (FILE* f = std::fopen(tmp.c_str(), "w")) {
    std::fprintf(f, "%d\n", static_cast<int>(getpid()));
    std::fclose(f);
    std::rename(tmp.c_str(), marker.c_str());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  ++value_;
  return static_cast<int>(getpid());
}

int Counter::ExitAfter(int x) {
  photon::ExitActor();
  return value_ + x;
}

int Counter::Overlap(int sleep_ms) {
  int now = ++inside_;
  int seen = max_inside_.load();
  while (now > seen && !max_inside_.compare_exchange_weak(seen, now)) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  --inside_;
  return max_inside_.load();
}

std::string SubscribeToActorUpdates() {
  // A serialized handle (msgpack ext type photon::internal::kActorHandleExtType holding a
  // binary ActorID: 12 unique bytes and an 8-byte JobID) of an actor no one created.
  std::string id;
  for (int i = 0; i < 20; ++i) id.push_back(static_cast<char>(0x41 + i));
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> packer(&buffer);
  packer.pack_ext(id.size(), photon::internal::kActorHandleExtType);
  packer.pack_ext_body(id.data(), static_cast<uint32_t>(id.size()));
  auto missing = photon::Deserialize<photon::ActorHandle<Counter>>(buffer.data(), buffer.size());
  try {
    missing.Task(&Counter::Get).Remote().Get(30000);
  } catch (const photon::ActorDiedError& e) {
    return e.what();
  }
  throw std::runtime_error(
      "a call to an actor that does not exist did not fail with ActorDiedError");
}

PHOTON_REMOTE(Counter::Create, &Counter::Add, &Counter::Get, &Counter::Pid, &Counter::WasRestarted,
              &Counter::Block, &Counter::ExitAfter, &Counter::Overlap);

}  // namespace actors_test
