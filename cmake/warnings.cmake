# Warnings are errors. g++ 12 at -O2 raises false -Wrestrict and -Wmaybe-uninitialized
# warnings inside libstdc++ (GCC bugs 105329, 105651): those two stay warnings, not errors.
function(isms_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-error=restrict -Wno-error=maybe-uninitialized)
  endif()
endfunction()
