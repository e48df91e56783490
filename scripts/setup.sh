#!/usr/bin/env bash
# Installs whatever Photon needs to build, test and run that is missing.
# Idempotent and quick when everything is present. Works on Debian 12 and 13.
#   Debian packages: installed with apt-get (root, or sudo when available).
#   Python packages: installed with pip into the interpreter named by $PYTHON
#   (default: python3 on PATH).
set -euo pipefail

PYTHON="${PYTHON:-python3}"

DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang clang-format
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libabsl-dev libspdlog-dev libfmt-dev libmsgpack-cxx-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev
  redis-server libhiredis-dev nlohmann-json3-dev libcpp-httplib-dev prometheus
  chromium chromium-driver linux-perf
)
PY_PACKAGES=(nanobind scikit-build-core cloudpickle numpy pytest pytest-timeout msgpack psutil
  prometheus_client joblib scikit-learn pathspec starlette uvicorn websockets pyyaml selenium
  matplotlib pyarrow pandas tqdm pillow optuna fastapi httpx httptools uvloop torch==2.13.0
  gymnasium)

missing_debs=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing_debs+=("$p")
  fi
done
if ((${#missing_debs[@]})); then
  echo "setup: installing Debian packages: ${missing_debs[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing_debs[@]}"
fi

missing_py=()
for p in "${PY_PACKAGES[@]}"; do
  mod="${p//-/_}"
  case "$p" in
    scikit-build-core) mod="scikit_build_core" ;;
    pytest-timeout) mod="pytest_timeout" ;;
    scikit-learn) mod="sklearn" ;;
    pyyaml) mod="yaml" ;;
    pillow) mod="PIL" ;;
    torch==*) mod="torch" ;;
  esac
  if ! "$PYTHON" -c "import ${mod}" 2>/dev/null; then missing_py+=("$p"); fi
done
if ((${#missing_py[@]})); then
  echo "setup: installing Python packages: ${missing_py[*]}"
  "$PYTHON" -m pip install -q "${missing_py[@]}"
fi
