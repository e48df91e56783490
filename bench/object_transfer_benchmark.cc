// Moving one large object between two raylets, against a bare loopback TCP
// stream of the same bytes in the same chunks, measured in the same run
// (../shared/design/PERF.md):
//   loopback_socket_stream   one thread writes N bytes in object_chunk_size
//                            chunks to a TCP socket on 127.0.0.1, another reads
//   cross_node_transfer      raylet B pulls an N-byte object from raylet A's
//                            store into its own (PullObject, timed from the
//                            request to the sealed copy), then frees it
// Usage: object_transfer_benchmark [--mib N] (default 500)
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <photon/api.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "photon/cluster/local_cluster.h"
#include "photon/protocol/raylet.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kChunk = 5 << 20;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string HexToBinary(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// GB/s of `bytes` through a loopback TCP connection, best of `reps`.
double LoopbackRate(size_t bytes, int reps) {
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(lfd, reinterpret_cast<sockaddr*>(&addr), len);
  listen(lfd, 1);
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  int cfd = socket(AF_INET, SOCK_STREAM, 0);
  connect(cfd, reinterpret_cast<sockaddr*>(&addr), len);
  int sfd = accept(lfd, nullptr, nullptr);
  std::vector<char> src(kChunk, 1), dst(bytes);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    auto t = Clock::now();
    std::thread writer([&] {
      for (size_t sent = 0; sent < bytes;) {
        size_t n = std::min(kChunk, bytes - sent);
        for (size_t off = 0; off < n;) {
          ssize_t w = write(cfd, src.data() + off, n - off);
          if (w <= 0) return;
          off += static_cast<size_t>(w);
        }
        sent += n;
      }
    });
    for (size_t got = 0; got < bytes;) {
      ssize_t n = read(sfd, dst.data() + got, bytes - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    writer.join();
    best = std::max(best, static_cast<double>(bytes) / Seconds(t) / 1e9);
  }
  close(cfd);
  close(sfd);
  close(lfd);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mib = 500;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0) mib = std::strtoul(argv[i + 1], nullptr, 10);
  }
  const size_t bytes = mib << 20;
  const int reps = 3;

  double loopback = LoopbackRate(bytes, reps);
  std::printf("%-28s %8.2f GB/s  (%zu MiB in %zu MiB chunks)\n", "loopback_socket_stream", loopback,
              mib, kChunk >> 20);

  auto bin = photon::FindBinDir("");
  if (!bin.ok()) {
    std::fprintf(stderr, "%s\n", std::string(bin.status().message()).c_str());
    return 1;
  }
  photon::NodeArgs a;
  a.num_cpus = 1;
  a.object_store_memory = static_cast<int64_t>(bytes + (256 << 20));
  auto cluster = photon::LocalCluster::Start(*bin, "/tmp/photon", &a);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cluster.status().message()).c_str());
    return 1;
  }
  auto node_b = (*cluster)->AddNode(a);
  if (!node_b.ok()) {
    std::fprintf(stderr, "%s\n", std::string(node_b.status().message()).c_str());
    return 1;
  }
  photon::Config c;
  c.address = (*cluster)->gcs_address();
  photon::Init(c);
  auto ref = photon::Put(std::vector<uint8_t>(bytes, 7));  // in raylet A's store

  const auto& node_a = (*cluster)->nodes().front();
  auto stub_b = photon::rpc::NodeManagerService::NewStub(
      grpc::CreateChannel(node_b->address, grpc::InsecureChannelCredentials()));
  photon::rpc::PullObjectRequest req;
  req.set_object_id(HexToBinary(ref.ID()));
  req.mutable_from()->set_ip("127.0.0.1");
  req.mutable_from()->set_port(node_a.port);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    grpc::ClientContext ctx;
    if (!(*cluster)->token().empty()) {
      ctx.AddMetadata("authorization", "Bearer " + (*cluster)->token());
    }
    photon::rpc::PullObjectReply reply;
    auto t = Clock::now();
    grpc::Status s = stub_b->PullObject(&ctx, req, &reply);
    double secs = Seconds(t);
    if (!s.ok()) {
      std::fprintf(stderr, "pull failed: %s\n", s.error_message().c_str());
      return 1;
    }
    best = std::max(best, static_cast<double>(bytes) / secs / 1e9);
    grpc::ClientContext free_ctx;
    if (!(*cluster)->token().empty()) {
      free_ctx.AddMetadata("authorization", "Bearer " + (*cluster)->token());
    }
    photon::rpc::FreeObjectsRequest f;
    f.add_object_ids(req.object_id());
    photon::rpc::FreeObjectsReply fr;
    stub_b->FreeObjects(&free_ctx, f, &fr);
  }
  std::printf("%-28s %8.2f GB/s  baseline %.2f  ratio %.2f\n", "cross_node_transfer", best,
              loopback, best / loopback);
  photon::Shutdown();
  (*cluster)->Shutdown();
  return 0;
}
