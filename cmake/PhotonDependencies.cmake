# Every third-party dependency, found once, from the system (Debian packages).
# Nothing is vendored or downloaded at build time.
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)  # JSON flags of the `photon` command
find_package(Boost 1.74 REQUIRED)
# The GCS's Redis storage (GCS fault tolerance).
find_package(PkgConfig REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# The raylet's /metrics endpoint (Debian's libcpp-httplib-dev).
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

# msgpack-cxx: Debian 12 ships package "msgpackc-cxx" (4.x), Debian 13 "msgpack-cxx" (6.x).
find_package(msgpack-cxx CONFIG QUIET)
if(TARGET msgpack-cxx)
  set(PHOTON_MSGPACK_TARGET msgpack-cxx)
  set(PHOTON_MSGPACK_FIND_ARGS "msgpack-cxx CONFIG")
else()
  find_package(msgpackc-cxx CONFIG REQUIRED NAMES msgpackc-cxx msgpack)
  set(PHOTON_MSGPACK_TARGET msgpackc-cxx)
  set(PHOTON_MSGPACK_FIND_ARGS "msgpackc-cxx CONFIG NAMES msgpackc-cxx msgpack")
endif()

find_program(PHOTON_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

if(PHOTON_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(PHOTON_BUILD_BENCHMARKS)
  find_package(benchmark CONFIG REQUIRED)
endif()
