// photon-gcs: the Global Control Service daemon.
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "CLI/CLI.hpp"
#include "photon/common/config.h"
#include "photon/common/log_rotation.h"
#include "photon/common/logging.h"
#include "photon/common/process.h"
#include "photon/common/timer.h"
#include "photon/gcs/gcs_server.h"
#include "photon/gcs/redis_storage.h"
#include "photon/rpc/auth.h"

int main(int argc, char** argv) {
  CLI::App app{"photon-gcs: the Global Control Service of a Photon cluster"};
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file, session_dir = "/tmp/photon/gcs";
  int parent_pid = 0;
  app.add_option("--host", host, "Interface to listen on");
  app.add_option("--port", port, "Port to listen on (0: any free port)");
  app.add_option("--port-file", port_file, "Write the bound port here once serving");
  app.add_option("--session-dir", session_dir, "Session folder (logs go to <it>/logs)");
  app.add_option("--parent-pid", parent_pid, "Exit when this parent process dies");
  CLI11_PARSE(app, argc, argv);

  photon::BlockTerminationSignals();
  if (parent_pid > 0) photon::DieWithParent(parent_pid, SIGTERM);
  auto config = photon::SystemConfig::FromProcessEnvironment();
  if (!config.ok()) {
    std::cerr << "photon-gcs: " << config.status().message() << "\n";
    return 2;
  }
  if (auto s = photon::rpc::AdoptClusterToken(&*config); !s.ok()) {
    std::cerr << "photon-gcs: " << s.message() << "\n";
    return 2;
  }
  photon::SetMutexDeadlockDetection(config->mutex_deadlock_detection());
  if (auto s = photon::InitLogging("gcs", session_dir, config->log_level(), nullptr,
                                   photon::LogRotationOf(*config));
      !s.ok()) {
    std::cerr << "photon-gcs: " << s.message() << "\n";
    return 2;
  }
  std::unique_ptr<photon::gcs::GcsStorage> storage;
  if (config->redis_address().empty()) {
    storage = std::make_unique<photon::gcs::InMemoryGcsStorage>();
  } else {
    auto redis = photon::gcs::RedisGcsStorage::Connect(
        {.address = config->redis_address(),
         .password = config->redis_password(),
         .storage_namespace = config->external_storage_namespace(),
         .connect_timeout_ms = config->gcs_connect_timeout_ms(),
         .command_timeout_ms = config->gcs_rpc_timeout_ms()});
    if (!redis.ok()) {
      std::cerr << "photon-gcs: " << redis.status().message() << "\n";
      PHOTON_LOG_ERROR("{}", std::string(redis.status().message()));
      return 1;
    }
    storage = std::move(*redis);
  }
  photon::gcs::GcsServer server(*config, std::move(storage), host, port);
  // As Ray does: a Prometheus file_sd list of every node's /metrics endpoint.
  server.set_service_discovery_file(session_dir + "/prom_metrics_service_discovery.json");
  if (auto s = server.Start(); !s.ok()) {
    std::cerr << "photon-gcs: " << s.message() << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    if (auto s = photon::WriteFileAtomically(port_file, std::to_string(server.port())); !s.ok()) {
      std::cerr << "photon-gcs: " << s.message() << "\n";
      return 1;
    }
  }
  photon::ThreadTimer rotation_timer("log rotation");
  photon::RotateStdioPeriodically(&rotation_timer, photon::LogRotationOf(*config));
  int sig = photon::WaitForTerminationSignal();
  PHOTON_LOG_INFO("photon-gcs stopping on signal {}", sig);
  server.Stop();
  photon::ShutdownLogging();
  return 0;
}
