# What the docs checks share: a page's text as a CMake list of its lines.
#
#   include("${CMAKE_CURRENT_LIST_DIR}/PageLines.cmake")
#   cnn_page_lines("${text}" lines)
#
# A CMake list is a string with ";" between its elements, so a semicolon in a line would split it,
# a square bracket would glue lines together (CMake does not split inside [...]), and a backslash
# at the end of a line (a shell command's continuation) would escape the ";" that replaces the line
# break. They are replaced by "," "(" ")" and "\ ", which none of the checks looks for: a formula's
# \f[ ... \f] then reads \f( ... \f), which is a formula too.
function(cnn_page_lines text out)
  string(REPLACE ";" "," text "${text}")
  string(REPLACE "[" "(" text "${text}")
  string(REPLACE "]" ")" text "${text}")
  string(REPLACE "\\\n" "\\ \n" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()
