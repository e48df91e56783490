// The memory view's pure parts: reference types, which entries count, and
// the `photon memory` text (grouping, sorting, units, sizes, bad options).
#include "photon/state/memory_view.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace photon::state {
namespace {

rpc::ObjectRefInfo Ref(const std::string& id_byte, int64_t size, int local = 0, int submitted = 0,
                       bool pinned = false) {
  rpc::ObjectRefInfo r;
  r.set_object_id(std::string(28, id_byte[0]));
  r.set_object_size(size);
  r.set_local_ref_count(local);
  r.set_submitted_task_ref_count(submitted);
  r.set_pinned_in_memory(pinned);
  r.set_task_status("FINISHED");
  return r;
}

ProcessObjectRefs Process(int pid, bool driver, const std::string& node,
                          std::vector<rpc::ObjectRefInfo> refs) {
  ProcessObjectRefs p;
  p.node_id = node;
  p.stats.set_pid(pid);
  p.stats.set_worker_type(driver ? "DRIVER" : "WORKER");
  p.stats.set_ip_address("10.0.0.1");
  for (auto& r : refs) *p.stats.add_object_refs() = std::move(r);
  return p;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(MemoryView, ReferenceTypesInRaysOrder) {
  rpc::ObjectRefInfo r = Ref("a", 10, /*local=*/1, /*submitted=*/1, /*pinned=*/true);
  EXPECT_EQ(ReferenceTypeOf(r), "PINNED_IN_MEMORY");
  r.set_pinned_in_memory(false);
  EXPECT_EQ(ReferenceTypeOf(r), "USED_BY_PENDING_TASK");
  r.set_submitted_task_ref_count(0);
  EXPECT_EQ(ReferenceTypeOf(r), "LOCAL_REFERENCE");
  r.set_local_ref_count(0);
  EXPECT_FALSE(IsHeld(r));
  EXPECT_EQ(ReferenceTypeOf(r), "UNKNOWN_STATUS");
  r.add_contained_in_owned("outer");
  EXPECT_TRUE(IsHeld(r));
  EXPECT_EQ(ReferenceTypeOf(r), "CAPTURED_IN_OBJECT");
  r.set_is_actor_handle(true);
  EXPECT_EQ(ReferenceTypeOf(r), "ACTOR_HANDLE");
}

TEST(MemoryView, GroupsByNodeSortsLargestFirstAndFillsBorrowersSizes) {
  rpc::ObjectRefInfo borrowed = Ref("b", -1, 1);  // the borrower does not know the size
  std::vector<ProcessObjectRefs> refs = {
      Process(100, true, "aaaaaaaaaaaaaaaa", {Ref("a", 10, 1), Ref("b", 5000, 1)}),
      Process(200, false, "bbbbbbbbbbbbbbbb", {borrowed, Ref("c", 7, 0)})};  // c: not held
  std::vector<NodeStore> stores(1);
  stores[0].node_id = "aaaaaaaaaaaaaaaa";
  stores[0].ip = "10.0.0.1";
  stores[0].store.set_capacity(1000);
  stores[0].store.set_bytes_used(250);
  stores[0].store.set_num_objects_in_memory(2);
  auto text = RenderMemorySummary(refs, stores, MemoryOptions{});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(Count(*text, "--- Summary for node address: 10.0.0.1 (node aaaaaaaaaaaa)"), 1u);
  EXPECT_EQ(Count(*text, "--- Summary for node address: 10.0.0.1 (node bbbbbbbbbbbb)"), 1u);
  EXPECT_EQ(Count(*text, "LOCAL_REFERENCE"), 3u);  // c is held by nothing: not shown
  EXPECT_EQ(Count(*text, absl::BytesToHexString(std::string(28, 'c'))), 0u);
  // The borrower's row shows the owner's size.
  const std::string b = absl::BytesToHexString(std::string(28, 'b'));
  size_t b_rows = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::StrContains(line, b)) {
      ++b_rows;
      EXPECT_TRUE(absl::StrContains(line, "5000 B")) << line;
    }
  }
  EXPECT_EQ(b_rows, 2u);
  const std::string a = absl::BytesToHexString(std::string(28, 'a'));
  EXPECT_LT(text->find(b), text->find(a));  // largest first
  EXPECT_NE(text->find("Plasma memory usage 0 MiB, 2 objects, 25.0% full"), std::string::npos);
  EXPECT_NE(text->find("PHOTON_RECORD_REF_CREATION_SITES=1"), std::string::npos);
}

TEST(MemoryView, OptionsAndErrors) {
  rpc::ObjectRefInfo sited = Ref("a", 2000000, 1);
  sited.set_call_site("(put object) x.py:1:f");
  std::vector<ProcessObjectRefs> refs = {
      Process(100, true, "n1", {sited, Ref("b", 1, 1), Ref("c", 3, 1)})};
  MemoryOptions o;
  o.group_by = "stack_trace";
  o.units = "mb";
  o.num_entries = 1;
  o.call_sites_recorded = true;
  auto text = RenderMemorySummary(refs, {}, o);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("--- Summary for call site: (put object) x.py:1:f ---"), std::string::npos);
  EXPECT_NE(text->find("--- Summary for call site: disabled ---"), std::string::npos);
  EXPECT_NE(text->find("2.000 MB"), std::string::npos);
  EXPECT_EQ(Count(*text, "LOCAL_REFERENCE"), 2u);  // one row per group
  EXPECT_EQ(text->find("RECORD_REF_CREATION_SITES"), std::string::npos);

  o = MemoryOptions{};
  o.stats_only = true;
  text = RenderMemorySummary(refs, {}, o);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("LOCAL_REFERENCE"), std::string::npos);
  EXPECT_NE(text->find("Aggregate object store stats"), std::string::npos);

  o = MemoryOptions{};
  o.sort_by = "size";
  EXPECT_TRUE(
      absl::StrContains(RenderMemorySummary(refs, {}, o).status().message(), "--sort-by 'size'"));
  o = MemoryOptions{};
  o.group_by = "job";
  EXPECT_TRUE(absl::IsInvalidArgument(RenderMemorySummary(refs, {}, o).status()));
  o = MemoryOptions{};
  o.units = "TB";
  EXPECT_TRUE(absl::StrContains(RenderMemorySummary(refs, {}, o).status().message(), "'TB'"));
}

}  // namespace
}  // namespace photon::state
