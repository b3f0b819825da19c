# Runs a command that must fail: a non-zero exit status and an error message matching a
# pattern. Used by tests that feed a program bad input.
#   cmake "-DCOMMAND=prog;arg;..." -DEXPECT_ERROR=regex -P ExpectFailure.cmake
foreach(var COMMAND EXPECT_ERROR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "ExpectFailure.cmake: -D${var}=... is required")
  endif()
endforeach()
execute_process(COMMAND ${COMMAND}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(status EQUAL 0)
  message(FATAL_ERROR "expected a failure, but it succeeded:\n${COMMAND}\n${out}")
endif()
if(NOT err MATCHES "${EXPECT_ERROR}")
  message(FATAL_ERROR "exit status ${status}, but the error message does not match "
                      "'${EXPECT_ERROR}':\n${err}")
endif()
message(STATUS "failed as expected (exit status ${status}): ${err}")
