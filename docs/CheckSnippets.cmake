# Checks, on the chapter pages' sources, that the code they quote stays short and that the whole
# of it is one click away:
#   cmake -DPAGES=docs/chapters/01_x.md,... -DSNIPPET_PATHS=chapters,src,tests -P CheckSnippets.cmake
# Fails, naming the page, its line, the file and the snippet, when
#   - a \snippet's region, the lines between the two lines that hold its marker [name], is longer
#     than MAX_LINES (25 unless told): a page shows the part of a function that carries its idea,
#     in pieces of at most 25 lines with prose between them;
#   - a \snippet's file is not found in SNIPPET_PATHS (Doxygen's EXAMPLE_PATH), or its marker is
#     not there twice;
#   - a section ("## " heading) quotes library code (a snippet of a file cnn/...) but links no
#     part of the API reference (\ref cnn::...), where the function's arguments and what it
#     throws are;
#   - a \snippet follows another with only blank lines between them: prose must introduce each
#     piece, saying what it is and where it sits.
include("${CMAKE_CURRENT_LIST_DIR}/PageLines.cmake")

cmake_minimum_required(VERSION 3.22)
foreach(var PAGES SNIPPET_PATHS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CheckSnippets.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED MAX_LINES)
  set(MAX_LINES 25)
endif()

string(REPLACE "," ";" pages "${PAGES}")
string(REPLACE "," ";" snippet_paths "${SNIPPET_PATHS}")
set(problems "")
set(snippets 0)
set(longest 0)

# The section a page is in: its heading's line, whether it quotes library code and whether it
# links the API reference. Checked when the next section starts and at the end of the page.
macro(check_section)
  if(section_quotes AND NOT section_links)
    list(JOIN section_quotes ", " section_quotes)
    list(APPEND problems
         "${page_name}:${section_line}: the section quotes library code (${section_quotes}) but links no part of the API reference: add \\ref cnn::<function> \"<function>\"")
  endif()
  set(section_quotes "")
  set(section_links FALSE)
endmacro()

foreach(page IN LISTS pages)
  get_filename_component(page_name "${page}" NAME)
  file(READ "${page}" text)
  cnn_page_lines("${text}" lines)  # PageLines.cmake
  set(line_number 0)
  set(section_line 0)
  set(section_quotes "")
  set(section_links FALSE)
  # The line of the last \snippet while only blank lines have followed it, else 0.
  set(previous_snippet 0)
  foreach(line IN LISTS lines)
    math(EXPR line_number "${line_number} + 1")
    if(line MATCHES "^[ \t]*$")
      continue()
    endif()
    set(follows_snippet ${previous_snippet})
    set(previous_snippet 0)
    if(line MATCHES "^## ")
      check_section()
      set(section_line ${line_number})
      continue()
    endif()
    if(line MATCHES "\\\\ref +cnn::")
      set(section_links TRUE)
    endif()
    if(NOT line MATCHES "^[ \t]*\\\\snippet(lineno|doc|{[a-z,]*})?[ \t]+([^ \t]+)[ \t]+([^ \t]+)")
      continue()
    endif()
    set(file "${CMAKE_MATCH_2}")
    set(name "${CMAKE_MATCH_3}")
    set(where "${page_name}:${line_number}: \\snippet ${file} ${name}")
    math(EXPR snippets "${snippets} + 1")
    set(previous_snippet ${line_number})
    if(follows_snippet GREATER 0)
      list(APPEND problems
           "${where} follows the \\snippet of line ${follows_snippet} with no prose between them: say what this piece is")
    endif()
    if(file MATCHES "^cnn/")
      list(APPEND section_quotes "${file}")
      list(REMOVE_DUPLICATES section_quotes)
    endif()
    # Doxygen looks for the file in each folder of EXAMPLE_PATH.
    set(source "")
    foreach(path IN LISTS snippet_paths)
      if(EXISTS "${path}/${file}" AND NOT IS_DIRECTORY "${path}/${file}")
        set(source "${path}/${file}")
        break()
      endif()
    endforeach()
    if(source STREQUAL "")
      list(APPEND problems "${where}: no file ${file} in ${SNIPPET_PATHS}")
      continue()
    endif()
    # The region: from the line after the first line holding [name] to the line before the next.
    file(READ "${source}" code)
    set(marker "[${name}]")
    string(LENGTH "${marker}" marker_length)
    string(FIND "${code}" "${marker}" first)
    if(first EQUAL -1)
      list(APPEND problems "${where}: no marker ${marker} in ${file}")
      continue()
    endif()
    math(EXPR after "${first} + ${marker_length}")
    string(SUBSTRING "${code}" ${after} -1 rest)
    string(FIND "${rest}" "${marker}" second)
    if(second EQUAL -1)
      list(APPEND problems "${where}: the marker ${marker} is in ${file} once, not twice")
      continue()
    endif()
    string(SUBSTRING "${rest}" 0 ${second} between)
    string(REGEX REPLACE "[^\n]" "" newlines "${between}")
    string(LENGTH "${newlines}" length)
    math(EXPR length "${length} - 1")
    if(length GREATER longest)
      set(longest ${length})
    endif()
    if(length GREATER MAX_LINES)
      list(APPEND problems
           "${where} is ${length} lines long, more than ${MAX_LINES}: split it with more markers, with prose between the pieces")
    endif()
  endforeach()
  check_section()
endforeach()

if(problems)
  list(JOIN problems "\n  " problems)
  message(FATAL_ERROR "Code quoted by the pages:\n  ${problems}")
endif()
list(LENGTH pages count)
message(STATUS "Snippets checked: ${snippets} on ${count} page(s), the longest ${longest} lines "
               "(at most ${MAX_LINES}), each introduced by prose; every section that quotes library code "
               "links the API reference")
