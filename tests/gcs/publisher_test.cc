// The GCS's publisher: long polls answered at once, parked and answered by a
// publication, expired by the timer, and filtered by channel and key.
#include <gtest/gtest.h>

#include "photon/gcs/pubsub.h"
#include "tests/fakes/fake_timer.h"

namespace photon::gcs {
namespace {

rpc::PubMessage Message(rpc::Channel channel, const std::string& key) {
  rpc::PubMessage m;
  m.set_channel(channel);
  m.set_key(key);
  return m;
}

class PublisherTest : public ::testing::Test {
 protected:
  rpc::PollRequest Request(int64_t after, std::vector<rpc::Channel> channels,
                           std::string key = "") {
    rpc::PollRequest r;
    r.set_after_seq(after);
    for (auto c : channels) r.add_channels(c);
    r.set_key_filter(key);
    r.set_timeout_ms(1000);
    return r;
  }
  photon::testing::FakeTimer timer_;
  Publisher publisher_{&timer_};
};

TEST_F(PublisherTest, PollWithNoPositionAnswersTheCurrentOneAtOnce) {
  publisher_.Publish(Message(rpc::NODE_CHANNEL, "a"));
  auto req = Request(-1, {rpc::NODE_CHANNEL});
  rpc::PollReply reply;
  bool done = false;
  publisher_.Poll(&req, &reply, [&](bool ok) { done = ok; });
  EXPECT_TRUE(done);
  EXPECT_EQ(reply.last_seq(), 1);
  EXPECT_EQ(reply.messages_size(), 0);
}

TEST_F(PublisherTest, PollAfterAPositionGetsWhatCameSince) {
  publisher_.Publish(Message(rpc::NODE_CHANNEL, "a"));
  publisher_.Publish(Message(rpc::JOB_CHANNEL, "j"));
  publisher_.Publish(Message(rpc::NODE_CHANNEL, "b"));
  auto req = Request(1, {rpc::NODE_CHANNEL});
  rpc::PollReply reply;
  bool done = false;
  publisher_.Poll(&req, &reply, [&](bool) { done = true; });
  ASSERT_TRUE(done);
  ASSERT_EQ(reply.messages_size(), 1);
  EXPECT_EQ(reply.messages(0).key(), "b");
  EXPECT_EQ(reply.messages(0).seq(), 3);
}

TEST_F(PublisherTest, ParkedPollIsAnsweredByAMatchingPublication) {
  auto req = Request(0, {rpc::ACTOR_CHANNEL}, "actor-1");
  rpc::PollReply reply;
  bool done = false;
  publisher_.Poll(&req, &reply, [&](bool) { done = true; });
  EXPECT_FALSE(done);
  EXPECT_EQ(publisher_.NumParked(), 1u);
  publisher_.Publish(Message(rpc::ACTOR_CHANNEL, "actor-2"));  // another key
  publisher_.Publish(Message(rpc::NODE_CHANNEL, "actor-1"));   // another channel
  EXPECT_FALSE(done);
  publisher_.Publish(Message(rpc::ACTOR_CHANNEL, "actor-1"));
  EXPECT_TRUE(done);
  ASSERT_EQ(reply.messages_size(), 1);
  EXPECT_EQ(reply.messages(0).key(), "actor-1");
}

TEST_F(PublisherTest, ParkedPollExpiresEmptyAfterItsTimeout) {
  auto req = Request(0, {rpc::NODE_CHANNEL});
  rpc::PollReply reply;
  bool done = false;
  publisher_.Poll(&req, &reply, [&](bool) { done = true; });
  timer_.Advance(absl::Milliseconds(999));
  EXPECT_FALSE(done);
  timer_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(done);
  EXPECT_EQ(reply.messages_size(), 0);
  EXPECT_EQ(publisher_.NumParked(), 0u);
}

TEST_F(PublisherTest, FlushAllAnswersParkedPollsAsFailed) {
  auto req = Request(0, {rpc::NODE_CHANNEL});
  rpc::PollReply reply;
  std::optional<bool> ok;
  publisher_.Poll(&req, &reply, [&](bool r) { ok = r; });
  publisher_.FlushAll();
  ASSERT_TRUE(ok.has_value());
  EXPECT_FALSE(*ok);
}

TEST_F(PublisherTest, APollFromAnotherIncarnationIsAnsweredFromTheStart) {
  // A subscriber that read up to seq 50 of a GCS that has since restarted.
  Publisher restarted(&timer_, 100, /*incarnation=*/7);
  restarted.Publish(Message(rpc::ACTOR_CHANNEL, "a"));
  restarted.Publish(Message(rpc::ACTOR_CHANNEL, "b"));
  auto req = Request(50, {rpc::ACTOR_CHANNEL});
  req.set_incarnation(3);
  rpc::PollReply reply;
  bool done = false;
  restarted.Poll(&req, &reply, [&](bool ok) { done = ok; });
  ASSERT_TRUE(done);
  ASSERT_EQ(reply.messages_size(), 2);
  EXPECT_EQ(reply.messages(0).key(), "a");
  EXPECT_EQ(reply.incarnation(), 7u);
  // The same position in this incarnation: nothing new, parked.
  req.set_incarnation(7);
  req.set_after_seq(2);
  rpc::PollReply again;
  bool answered = false;
  restarted.Poll(&req, &again, [&](bool) { answered = true; });
  EXPECT_FALSE(answered);
  restarted.FlushAll();
}

TEST_F(PublisherTest, BoundedLogStillAnswersFromItsOldestMessage) {
  Publisher small(&timer_, /*max_log=*/2);
  for (const char* k : {"a", "b", "c"}) small.Publish(Message(rpc::NODE_CHANNEL, k));
  auto req = Request(0, {rpc::NODE_CHANNEL});
  rpc::PollReply reply;
  small.Poll(&req, &reply, [](bool) {});
  ASSERT_EQ(reply.messages_size(), 2);
  EXPECT_EQ(reply.messages(0).key(), "b");
}

}  // namespace
}  // namespace photon::gcs
