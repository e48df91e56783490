// Photon's version.
#pragma once

namespace photon {

// The version of the Photon library the program is linked with, e.g. "0.1.0".
// Thread-safe; never fails.
const char* Version();

}  // namespace photon
