// PHOTON_REMOTE: declares which functions may run as remote tasks, which functions make
// actors, and which member functions may be called on actors.
#pragma once

#include "photon/internal/remote_function.h"

// PHOTON_REMOTE(f, g, ...) registers any number of
//   - free functions (remote tasks, called with photon::Task(f)),
//   - actor factories: free or static member functions returning a pointer to a new object
//     of a (non-const) class T, which the actor then owns (photon::Actor(factory)),
//   - member functions of actor classes, const or not, written &T::Method
//     (handle.Task(&T::Method)),
// under their names as written, minus whitespace and a leading '&' ("f", "ns::g",
// "Counter::FactoryCreate", "Counter::Add"). Write it once per function, at namespace scope
// in a .cc file, followed by a semicolon:
//
//   int Add(int a, int b) { return a + b; }
//   Counter* CreateCounter(int start) { return new Counter(start); }
//   PHOTON_REMOTE(Add, CreateCounter, &Counter::Increment, &Counter::Value);
//
// Registration runs during static initialization of the executable or shared library that
// holds the line, into a registry shared by the whole process. The same registration must
// run in the driver (so photon::Task and photon::Actor can name the function) and in the
// workers (so they can run it): build both from the same sources, or load the library with
// code_search_path.
//
// Parameters and return values must be serializable (see photon/serializer.h) and not
// pointers (except the pointer a factory returns); overloaded functions, ref-qualified
// member functions and members of a base class called through a derived actor cannot be
// registered or called. Registering a name twice for the same function is harmless;
// registering one name for two different functions aborts the process with a message
// naming both.
#define PHOTON_REMOTE(...) PHOTON_INTERNAL_REMOTE_AT(__COUNTER__, __VA_ARGS__)
#define PHOTON_INTERNAL_REMOTE_AT(counter, ...) PHOTON_INTERNAL_REMOTE_AT2(counter, __VA_ARGS__)
#define PHOTON_INTERNAL_REMOTE_AT2(counter, ...)                        \
  [[maybe_unused]] static const bool photon_internal_remote_##counter = \
      ::photon::internal::RegisterRemoteFunctions(#__VA_ARGS__, __VA_ARGS__)
