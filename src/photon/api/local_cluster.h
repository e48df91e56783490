// Moved to photon/cluster/local_cluster.h (kept only while callers move).
#pragma once
#include "photon/cluster/local_cluster.h"
