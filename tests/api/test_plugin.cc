// A library of remote functions that api_test loads with LoadFunctionLibraries, as a
// worker loads the libraries on code_search_path.
#include <photon/api.h>

#include <string>

namespace {

int PluginTimesThree(int x) { return 3 * x; }

std::string PluginShout(const std::string& word) { return word + "!"; }

}  // namespace

PHOTON_REMOTE(PluginTimesThree, PluginShout);
