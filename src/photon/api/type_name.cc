#include "photon/internal/type_name.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace photon::internal {
namespace {

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::string DemangleTypeName(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  if (status != 0 || demangled == nullptr) {
    return mangled;
  }
  std::string name = demangled.get();
  // The spellings users write, not libstdc++'s inline namespace and default arguments.
  ReplaceAll(name,
             "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
             "std::string");
  ReplaceAll(name, "std::__cxx11::", "std::");
  return name;
}

}  // namespace photon::internal
