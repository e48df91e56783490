// The `photon` command: manages clusters (start, stop, status) like `ray`.
#include <cstdio>

#include "CLI/CLI.hpp"

#ifndef PHOTON_VERSION_STRING
#define PHOTON_VERSION_STRING "unknown"
#endif

int main(int argc, char** argv) {
  CLI::App app{"photon: start, inspect and stop Photon clusters"};
  app.set_version_flag("--version", std::string(PHOTON_VERSION_STRING));
  app.require_subcommand(0);
  CLI11_PARSE(app, argc, argv);
  if (argc == 1) std::printf("%s", app.help().c_str());
  return 0;
}
