# photon_target_warnings(target): warnings as errors for Photon's own code only.
function(photon_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()
