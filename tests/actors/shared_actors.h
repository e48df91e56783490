// The actor class that both actors_test and its helper driver (actors_driver_helper)
// use. Both executables compile shared_actors.cc, so they register the same factory
// and methods under the same names ("Counter::Create", "Counter::Add", ...): an actor
// created by one driver can be called from the other.
#pragma once

#include <atomic>
#include <string>

namespace actors_test {

// A counter; its methods also report the process it runs in.
class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter* Create(int start);

  // Adds x and returns the new value (the running count).
  int Add(int x);
  int Get() const;
  // The pid of the actor's process.
  int Pid() const;
  // photon::WasCurrentActorRestarted() in the actor.
  bool WasRestarted() const;
  // Writes `marker` (a file path) when it starts, sleeps `sleep_ms`, adds 1; returns the pid
  // of the process that finished the call.
  int Block(std::string marker, int sleep_ms);
  // Calls photon::ExitActor(), then returns value + x.
  int ExitAfter(int x);
  // Thread-safe: enters, sleeps `sleep_ms`, leaves; returns the most Overlap calls seen
  // inside at once so far (1 unless calls run concurrently).
  int Overlap(int sleep_ms);

 private:
  int value_;
  std::atomic<int> inside_{0};
  std::atomic<int> max_inside_{0};
};

// Makes this driver subscribe to actor state changes now, by calling an actor that does not
// exist (the call fails with ActorDiedError; returns its message).
//
// Works around a runtime bug (see FirstCallAfterTheActorIsAliveIsDelivered in
// actors_test.cc): a process subscribes to actor updates only at its first actor call, and
// an actor it created that became ALIVE before then is never seen alive, so calls to it
// hang. Call this after photon::Init, before creating actors.
std::string SubscribeToActorUpdates();

}  // namespace actors_test
