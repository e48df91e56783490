// Conversions between Python objects and core types (bindings.h).
#include <nanobind/stl/string.h>

#include "bindings.h"

namespace photon::python {

nb::bytes Bytes(const std::string& s) { return nb::bytes(s.data(), s.size()); }

namespace {
template <typename Id>
Id ToId(const nb::bytes& b) {
  auto id = Id::FromBinary(std::string_view(b.c_str(), b.size()));
  if (!id.ok()) throw nb::value_error(std::string(id.status().message()).c_str());
  return *id;
}
}  // namespace

ObjectID ToObjectId(const nb::bytes& b) { return ToId<ObjectID>(b); }
TaskID ToTaskId(const nb::bytes& b) { return ToId<TaskID>(b); }
ActorID ToActorId(const nb::bytes& b) { return ToId<ActorID>(b); }

std::vector<ObjectID> ToObjectIds(const std::vector<nb::bytes>& ids) {
  std::vector<ObjectID> out;
  out.reserve(ids.size());
  for (const auto& b : ids) out.push_back(ToObjectId(b));
  return out;
}

nb::list IdList(const std::vector<ObjectID>& ids) {
  nb::list out;
  for (const auto& id : ids) out.append(Bytes(id.Binary()));
  return out;
}

rpc::Address ToAddress(const nb::bytes& b) {
  rpc::Address a;
  if (!a.ParseFromArray(b.c_str(), static_cast<int>(b.size()))) {
    throw nb::value_error("bad owner address");
  }
  return a;
}

std::string_view ViewOf(nb::handle obj, Py_buffer* view) {
  if (PyObject_GetBuffer(obj.ptr(), view, PyBUF_SIMPLE) != 0) throw nb::python_error();
  return std::string_view(static_cast<const char*>(view->buf), static_cast<size_t>(view->len));
}

std::vector<core::TaskArgument> ToArgs(const nb::list& args) {
  std::vector<core::TaskArgument> out;
  out.reserve(args.size());
  for (nb::handle item : args) {
    nb::tuple t = nb::cast<nb::tuple>(item);
    core::TaskArgument a;
    a.is_ref = nb::cast<bool>(t[0]);
    if (a.is_ref) {
      a.ref = ToObjectId(nb::cast<nb::bytes>(t[1]));
    } else {
      nb::bytes meta = nb::cast<nb::bytes>(t[1]);
      a.metadata.assign(meta.c_str(), meta.size());
      Py_buffer view;
      std::string_view data = ViewOf(t[2], &view);
      a.value.assign(data);
      PyBuffer_Release(&view);
      if (t.size() > 3) {
        for (nb::handle id : nb::cast<nb::list>(t[3])) {
          a.nested_refs.push_back(ToObjectId(nb::cast<nb::bytes>(id)));
        }
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

rpc::SchedulingStrategy ToStrategy(const SchedulingTuple& t) {
  rpc::SchedulingStrategy st;
  const nb::bytes& node = std::get<0>(t);
  st.set_node_id(std::string(node.c_str(), node.size()));
  st.set_soft(std::get<1>(t));
  st.set_spread(std::get<2>(t));
  const nb::bytes& pg = std::get<3>(t);
  st.set_placement_group_id(std::string(pg.c_str(), pg.size()));
  st.set_bundle_index(std::get<4>(t));
  st.set_capture_child_tasks(std::get<5>(t));
  for (const auto& [key, op, values, hard] : std::get<6>(t)) {
    st.set_by_labels(true);
    rpc::LabelExpression* e = hard ? st.add_label_hard() : st.add_label_soft();
    e->set_key(key);
    rpc::LabelExpression::Operator parsed;
    if (!rpc::LabelExpression::Operator_Parse(op, &parsed)) {
      throw std::invalid_argument("unknown label operator " + op);
    }
    e->set_op(parsed);
    for (const auto& v : values) e->add_values(v);
  }
  return st;
}

namespace {
int BufferGet(PyObject* self, Py_buffer* view, int flags) {
  Buffer* b = nb::inst_ptr<Buffer>(self);
  return PyBuffer_FillInfo(view, self, const_cast<char*>(b->value->data.data()),
                           static_cast<Py_ssize_t>(b->value->data.size()), /*readonly=*/1, flags);
}
PyType_Slot kBufferSlots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(BufferGet)}, {0, nullptr}};
}  // namespace

void BindBuffer(nb::module_& m) {
  nb::class_<Buffer>(m, "Buffer", nb::type_slots(kBufferSlots)).def("__len__", [](const Buffer& b) {
    return b.value->data.size();
  });
}

}  // namespace photon::python
