# Builds one textbook site and checks it.
#   cmake -DDOXYGEN=doxygen -DDOXYFILE=Doxyfile -DSITE=dir -DMATHJAX=dir
#         -DOUT_ROOT=dir -DSTAGE=dir -DSOURCE_DIR=dir -DBINARY_DIR=dir -P BuildDocs.cmake
# First copies what the chapter programs wrote (OUT_ROOT/chNN/*) to STAGE/chNN/, where the
# Doxyfile looks for it, with the absolute paths of this machine made relative in the text
# files: the programs print where their data and plots are ("data: /home/.../data/...").
# Fails when Doxygen fails, when it logs any warning, or when a page shows an image that is not
# in the site. Links Debian's MathJax into the site so formulas render without a network.
foreach(var DOXYGEN DOXYFILE SITE MATHJAX OUT_ROOT STAGE SOURCE_DIR BINARY_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "BuildDocs.cmake: -D${var}=... is required")
  endif()
endforeach()

# The build folder is shown as the repository sees it (build/out/ch01), or as "build" when it
# lies outside the repository; then the repository's own path is dropped (data/...).
file(RELATIVE_PATH binary_shown "${SOURCE_DIR}" "${BINARY_DIR}")
if(binary_shown STREQUAL "")
  set(binary_shown ".")
elseif(binary_shown MATCHES "^[.][.]/|^/")
  set(binary_shown "build")
endif()
file(REMOVE_RECURSE "${STAGE}")
file(GLOB chapter_folders LIST_DIRECTORIES true "${OUT_ROOT}/ch*")
foreach(folder IN LISTS chapter_folders)
  if(NOT IS_DIRECTORY "${folder}")
    continue()
  endif()
  get_filename_component(chapter "${folder}" NAME)
  file(MAKE_DIRECTORY "${STAGE}/${chapter}")
  file(GLOB files LIST_DIRECTORIES false "${folder}/*")
  foreach(file IN LISTS files)
    get_filename_component(name "${file}" NAME)
    if(name MATCHES "[.](txt|dot|csv|md)$")
      file(READ "${file}" text)
      string(REPLACE "${BINARY_DIR}/" "${binary_shown}/" text "${text}")
      string(REPLACE "${BINARY_DIR}" "${binary_shown}" text "${text}")
      string(REPLACE "${SOURCE_DIR}/" "" text "${text}")
      string(REPLACE "${SOURCE_DIR}" "." text "${text}")
      file(WRITE "${STAGE}/${chapter}/${name}" "${text}")
    else()
      file(COPY "${file}" DESTINATION "${STAGE}/${chapter}")
    endif()
  endforeach()
endforeach()

set(log "${SITE}/doxygen-warnings.log")
file(MAKE_DIRECTORY "${SITE}")
file(REMOVE "${log}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}" RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "doxygen ${DOXYFILE} failed (exit status ${status})")
endif()

if(EXISTS "${log}")
  file(READ "${log}" warnings)
  string(STRIP "${warnings}" warnings)
  if(NOT warnings STREQUAL "")
    message(FATAL_ERROR "Doxygen warnings (the docs must build without any):\n${warnings}")
  endif()
endif()

# Every <img src="..."> of a local file must exist in the site.
file(GLOB pages "${SITE}/html/*.html")
set(missing "")
foreach(page IN LISTS pages)
  file(STRINGS "${page}" lines REGEX "<img [^>]*src=\"")
  foreach(line IN LISTS lines)
    string(REGEX MATCHALL "src=\"[^\":]+\"" sources "${line}")
    foreach(source IN LISTS sources)
      string(REGEX REPLACE "^src=\"(.*)\"$" "\\1" file "${source}")
      if(NOT EXISTS "${SITE}/html/${file}")
        get_filename_component(name "${page}" NAME)
        list(APPEND missing "${name}: ${file}")
      endif()
    endforeach()
  endforeach()
endforeach()
if(missing)
  list(JOIN missing "\n  " missing)
  message(FATAL_ERROR "Images missing from the site:\n  ${missing}")
endif()

# Alt text: Doxygen 1.9.4 writes alt="" for \image html and the file's name for a \dotfile
# graph. Each figure of a page gets its caption's text instead (a figure's caption comes right
# after its image), which the browser test requires of every image in the text.
foreach(page IN LISTS pages)
  file(READ "${page}" html)
  # CMake lists split at ";" and group at "[ ]": those stand in for themselves meanwhile.
  string(REPLACE ";" "@cnn-semicolon@" html "${html}")
  string(REPLACE "[" "@cnn-open@" html "${html}")
  string(REPLACE "]" "@cnn-close@" html "${html}")
  string(REGEX MATCHALL "<img src=\"[^\"]+\" alt=\"[^\"]*\"[^>]*>\n<div class=\"caption\">\n[^<]+</div>"
         figures "${html}")
  if(NOT figures)
    continue()  # nothing changed: the page is left as it is
  endif()
  foreach(figure IN LISTS figures)
    string(REGEX REPLACE ".*<div class=\"caption\">\n([^<]+)</div>$" "\\1" caption "${figure}")
    string(STRIP "${caption}" caption)
    string(REPLACE "\"" "&quot;" caption "${caption}")
    string(REGEX REPLACE " alt=\"[^\"]*\"" " alt=\"${caption}\"" with_alt "${figure}")
    string(REPLACE "${figure}" "${with_alt}" html "${html}")
  endforeach()
  string(REPLACE "@cnn-semicolon@" ";" html "${html}")
  string(REPLACE "@cnn-open@" "[" html "${html}")
  string(REPLACE "@cnn-close@" "]" html "${html}")
  file(WRITE "${page}" "${html}")
endforeach()

if(NOT EXISTS "${SITE}/html/mathjax")
  file(CREATE_LINK "${MATHJAX}" "${SITE}/html/mathjax" SYMBOLIC)
endif()
message(STATUS "Textbook site: ${SITE}/html/index.html")
