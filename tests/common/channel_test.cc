#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "photon/rpc/client.h"

namespace photon {
namespace {

using std::chrono::system_clock;

// A gRPC server that knows no methods: enough for a channel to connect to.
struct Listener {
  grpc::CallbackGenericService service;
  std::unique_ptr<grpc::Server> server;
};

std::unique_ptr<Listener> Listen(const std::string& address, int* port) {
  auto l = std::make_unique<Listener>();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), port);
  builder.RegisterCallbackGenericService(&l->service);
  l->server = builder.BuildAndStart();
  if (l->server == nullptr) return nullptr;
  return l;
}

bool WaitForState(grpc::Channel* channel, grpc_connectivity_state want, int timeout_ms) {
  auto deadline = system_clock::now() + std::chrono::milliseconds(timeout_ms);
  grpc_connectivity_state s = channel->GetState(true);
  while (s != want) {
    if (!channel->WaitForStateChange(s, deadline)) return false;
    s = channel->GetState(true);
  }
  return true;
}

// Ports are reused: a process that starts where a dead one listened must get a
// working channel, not the dead one's, which is backing off after failed connects.
TEST(ChannelTest, FailingChannelIsReplacedForANewListenerOnTheSamePort) {
  int port = 0;
  auto first = Listen("127.0.0.1:0", &port);
  ASSERT_NE(first, nullptr);
  std::string address = "127.0.0.1:" + std::to_string(port);
  auto old_channel = rpc::GetChannel(address);
  ASSERT_TRUE(old_channel->WaitForConnected(system_clock::now() + std::chrono::seconds(5)));
  first->server->Shutdown();
  first.reset();
  ASSERT_TRUE(WaitForState(old_channel.get(), GRPC_CHANNEL_TRANSIENT_FAILURE, 10000));

  int again = 0;
  auto second = Listen(address, &again);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(again, port);
  auto new_channel = rpc::GetChannel(address);
  EXPECT_NE(new_channel, old_channel);
  EXPECT_TRUE(new_channel->WaitForConnected(system_clock::now() + std::chrono::seconds(5)));
  EXPECT_EQ(rpc::GetChannel(address), new_channel);  // cached again once healthy
  second->server->Shutdown();
}

TEST(ChannelTest, AnotherPeerAtTheSameAddressGetsItsOwnChannel) {
  const std::string address = "127.0.0.1:1";  // nothing is dialed until a call
  auto a = rpc::GetChannel(address, "worker-a");
  EXPECT_EQ(rpc::GetChannel(address, "worker-a"), a);
  EXPECT_EQ(rpc::GetChannel(address), a);  // no peer given: whatever is there
  auto b = rpc::GetChannel(address, "worker-b");
  EXPECT_NE(b, a);
  EXPECT_EQ(rpc::GetChannel(address, "worker-b"), b);
}

}  // namespace
}  // namespace photon
