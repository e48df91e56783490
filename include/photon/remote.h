// PHOTON_REMOTE: declares which free functions may run as remote tasks.
#pragma once

#include "photon/internal/remote_function.h"

// PHOTON_REMOTE(f, g, ...) registers the free functions f, g, ... (any number) as remote
// functions under their names as written, minus whitespace and a leading '&' ("f", "ns::g").
// Write it once per function, at namespace scope in a .cc file, followed by a semicolon:
//
//   int Add(int a, int b) { return a + b; }
//   PHOTON_REMOTE(Add);
//
// Registration runs during static initialization of the executable or shared library that
// holds the line, into a registry shared by the whole process. The same registration must
// run in the driver (so photon::Task can name the function) and in the workers (so they can
// run it): build both from the same sources, or load the library with code_search_path.
//
// Parameters and return values must be serializable (see photon/serializer.h) and not
// pointers; overloaded functions cannot be registered. Registering a name twice for the
// same function is harmless; registering one name for two different functions aborts the
// process with a message naming both.
#define PHOTON_REMOTE(...) PHOTON_INTERNAL_REMOTE_AT(__COUNTER__, __VA_ARGS__)
#define PHOTON_INTERNAL_REMOTE_AT(counter, ...) PHOTON_INTERNAL_REMOTE_AT2(counter, __VA_ARGS__)
#define PHOTON_INTERNAL_REMOTE_AT2(counter, ...)                        \
  [[maybe_unused]] static const bool photon_internal_remote_##counter = \
      ::photon::internal::RegisterRemoteFunctions(#__VA_ARGS__, __VA_ARGS__)
