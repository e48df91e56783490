// NodeLabelSchedulingStrategy: only the live nodes whose labels match every
// hard expression (In, NotIn, Exists, DoesNotExist), preferring those that
// also match every soft one; among them the default (hybrid) policy decides.
// Work that no live node's labels admit is infeasible (it waits for such a
// node to join).
#pragma once

#include <map>
#include <string>

#include "photon/raylet/scheduling/policy/scheduling_policy.h"

namespace photon::raylet {

bool LabelsMatch(const std::map<std::string, std::string>& labels,
                 const google::protobuf::RepeatedPtrField<rpc::LabelExpression>& expressions);

SchedulingDecision NodeLabelPolicy(const ClusterView& view, const SchedulingRequest& request,
                                   const SchedulingOptions& options, SchedulingState* state);

}  // namespace photon::raylet
