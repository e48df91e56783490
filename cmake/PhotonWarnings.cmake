# photon_target_warnings(target): warnings as errors for Photon's own code only.
function(photon_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
  # GCC 12 at -O3 reports impossible overlaps inside std::string (GCC bug
  # 105329); keep the warning but not as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-error=restrict)
  endif()
  # Clang checks the locking annotations (ABSL_GUARDED_BY and friends):
  # `make tsa` builds the tree this way, and CI runs it.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND PHOTON_THREAD_SAFETY_ANALYSIS)
    target_compile_options(${target} PRIVATE -Wthread-safety -Wthread-safety-beta)
  endif()
endfunction()
