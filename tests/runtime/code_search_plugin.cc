// Remote functions that tasks_test runs through Config::code_search_path: the
// workers are photon-default-worker processes that load this library; the
// test driver does not link it and calls the functions by name.
#include <photon/api.h>

namespace {

int PluginSquare(int x) { return x * x; }

// A task that submits a task itself, from inside a photon-default-worker.
int PluginNestedSquarePlusOne(int x) {
  return *photon::Task(PluginSquare).Remote(x).Get(30000) + 1;
}

}  // namespace

PHOTON_REMOTE(PluginSquare, PluginNestedSquarePlusOne);
