// photon-default-worker: the generic C++ worker for drivers that ship their
// remote functions in shared libraries (Config::code_search_path). It loads
// the libraries named by PHOTON_CODE_SEARCH_PATH and serves tasks.
#include <cstdio>

#include "photon/api.h"

int main() {
  try {
    photon::Init();  // in a worker process, serves tasks and never returns
  } catch (const std::exception& e) {
    std::fprintf(stderr, "photon-default-worker: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "photon-default-worker must be started by a raylet\n");
  return 1;
}
