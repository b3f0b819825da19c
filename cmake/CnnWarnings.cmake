# cnn_set_warnings(target): the warning flags for code written in this project.
# Third-party headers come in through imported targets (SYSTEM), so these flags
# apply to our code only.
function(cnn_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(CNN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
