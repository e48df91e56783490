#!/usr/bin/env bash
# Runs Photon's demo from the build folder given as $1.
set -euo pipefail
BUILD_DIR="${1:-build}"
echo "Photon $("$BUILD_DIR"/bin/photon --version 2>/dev/null || echo '(cli not built)')"
if [[ -x "$BUILD_DIR/bin/monte_carlo_pi" ]]; then
  exec "$BUILD_DIR/bin/monte_carlo_pi"
fi
echo "demo: the runtime is not built yet; showing what the foundation provides."
"$BUILD_DIR/bin/id_benchmark" --benchmark_min_time=0.05 2>/dev/null || true
