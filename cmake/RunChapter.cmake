# Runs one chapter program and keeps what it printed, for the textbook site.
#   cmake -DPROGRAM=exe -DOUT=dir [-DARGS="--quick"] [-DEXPECT="a.png,b.txt"] -P RunChapter.cmake
# Standard output is shown as it comes and captured in OUT/output.txt. The capture is written to
# a temporary file and renamed only when the program succeeded, so a failed or interrupted run
# never leaves a half-written output.txt that a later build would take as done.
foreach(var PROGRAM OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "RunChapter.cmake: -D${var}=... is required")
  endif()
endforeach()

file(MAKE_DIRECTORY "${OUT}")
separate_arguments(extra UNIX_COMMAND "${ARGS}")
execute_process(
  COMMAND "${PROGRAM}" --out "${OUT}" ${extra}
  OUTPUT_VARIABLE captured
  ECHO_OUTPUT_VARIABLE
  RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (exit status ${status})")
endif()

set(missing "")
string(REPLACE "," ";" EXPECT "${EXPECT}")
foreach(file IN LISTS EXPECT)
  if(NOT EXISTS "${OUT}/${file}")
    list(APPEND missing "${file}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "${PROGRAM} succeeded but did not write: ${missing} (in ${OUT})")
endif()

file(WRITE "${OUT}/output.txt.partial" "${captured}")
file(RENAME "${OUT}/output.txt.partial" "${OUT}/output.txt")
