// Readable C++ type names, for error messages. Not for users.
#pragma once

#include <string>
#include <typeinfo>

namespace photon::internal {

// Demangles a type name as std::type_info::name() returns it (e.g. "St16invalid_argument"
// becomes "std::invalid_argument"); std::__cxx11::basic_string<char, ...> is shortened to
// std::string. Returns `mangled` unchanged if it cannot be demangled. Thread-safe; never throws
// except std::bad_alloc.
std::string DemangleTypeName(const char* mangled);

// The readable name of T, e.g. TypeName<int>() == "int".
template <typename T>
std::string TypeName() {
  return DemangleTypeName(typeid(T).name());
}

}  // namespace photon::internal
