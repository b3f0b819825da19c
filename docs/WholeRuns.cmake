# Writes the Doxygen aliases that open the collapsed "whole run" blocks of the chapter pages,
# each with the length of its run counted here, never typed into a page:
#   cmake -DOUT_ROOT=dir -DRECORDED=docs/recorded -DOUTPUT=whole-runs.doxy -P WholeRuns.cmake
# For every OUT_ROOT/chNN/output.txt, \wholerun_chNN opens a <details> block whose summary reads
# "The whole run (N lines)"; for every RECORDED/*_run*.txt, \wholerun_<file name> opens one that
# reads "The whole recorded run (N lines)". The page puts the \verbinclude of that file after it,
# and \endwholerun (Doxyfile.in) closes the block: the reader opens it with one click. The
# Doxyfile includes OUTPUT; a page naming a run that is missing makes Doxygen warn of an unknown
# command, which fails the site's build.
cmake_minimum_required(VERSION 3.22)
foreach(var OUT_ROOT RECORDED OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "WholeRuns.cmake: -D${var}=... is required")
  endif()
endforeach()

# The number of lines of a text file, a last line without its newline included.
function(count_lines out file)
  file(READ "${file}" text)
  string(REGEX MATCHALL "\n" breaks "${text}")
  list(LENGTH breaks count)
  if(NOT text STREQUAL "" AND NOT text MATCHES "\n$")
    math(EXPR count "${count} + 1")
  endif()
  set(${out} ${count} PARENT_SCOPE)
endfunction()

set(aliases "# Written by docs/WholeRuns.cmake from the runs' lengths; rewritten before each build.\n")
function(add_run name summary file)
  count_lines(count "${file}")
  set(open "<details class=\\\"wholerun\\\"><summary>${summary} (${count} lines)</summary>")
  string(APPEND aliases "ALIASES += \"wholerun_${name}=\\htmlonly[block]${open}\\endhtmlonly\"\n")
  set(aliases "${aliases}" PARENT_SCOPE)
endfunction()

file(GLOB outputs "${OUT_ROOT}/ch*/output.txt")
list(SORT outputs)
foreach(file IN LISTS outputs)
  get_filename_component(folder "${file}" DIRECTORY)
  get_filename_component(chapter "${folder}" NAME)
  add_run("${chapter}" "The whole run" "${file}")
endforeach()
file(GLOB recorded "${RECORDED}/*_run*.txt")
list(SORT recorded)
foreach(file IN LISTS recorded)
  get_filename_component(name "${file}" NAME_WE)
  add_run("${name}" "The whole recorded run" "${file}")
endforeach()

get_filename_component(folder "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${folder}")
file(WRITE "${OUTPUT}" "${aliases}")
list(LENGTH outputs output_count)
list(LENGTH recorded recorded_count)
message(STATUS "Whole runs: ${output_count} chapter outputs and ${recorded_count} recorded runs "
               "in ${OUTPUT}")
