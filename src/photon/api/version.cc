#include "photon/version.h"

namespace photon {

const char* Version() { return PHOTON_VERSION_STRING; }

}  // namespace photon
