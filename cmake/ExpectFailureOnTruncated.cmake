# Cuts FILE to half its size (into CUT), as an interrupted copy would leave it, then runs a
# command on it that must fail with a clear error: ExpectFailure.cmake's rules.
#   cmake -DFILE=model.onnx -DCUT=cut.onnx "-DCOMMAND=prog;arg;..." -DEXPECT_ERROR=regex
#         [-DNODE_PATH=dir] -P ExpectFailureOnTruncated.cmake
foreach(var FILE CUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "ExpectFailureOnTruncated.cmake: -D${var}=... is required")
  endif()
endforeach()
file(SIZE "${FILE}" size)
math(EXPR half "${size} / 2")
get_filename_component(folder "${CUT}" DIRECTORY)
file(MAKE_DIRECTORY "${folder}")
execute_process(COMMAND head -c ${half} "${FILE}" OUTPUT_FILE "${CUT}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "could not write the first ${half} bytes of ${FILE} to ${CUT}")
endif()
if(DEFINED NODE_PATH)
  set(ENV{NODE_PATH} "${NODE_PATH}")
endif()
include("${CMAKE_CURRENT_LIST_DIR}/ExpectFailure.cmake")
