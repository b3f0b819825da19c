# Opens the book's pages in headless Chromium and checks them as a reader's browser shows them.
#   cmake -DSITE=dir -DBOOK=index,chapter01,...,reliability -DSCRIPT=docs/browser-check.js
#         [-DPAGES=chapter01,...] [-DCHROMIUM=chromium] [-DWORK=dir] -P CheckBrowser.cmake
# BOOK is the reading order of the pages SITE/html/NAME.html: the first page has no
# previous/next bars, the last has a previous link only, every other page a previous and a next
# link, in a bar at the top and one at the bottom. PAGES opens only some of them (default: all).
#
# Each page is copied to WORK/NAME.html (WORK is SITE/browser-check unless given; emptied
# first, so two checks that run at once need two folders) with two additions at the top of its
# <head>: a <base> that points back into SITE/html, so that the copy loads the same scripts,
# MathJax and images as the page itself, and SCRIPT (browser-check.js). Chromium opens the
# copy; the script waits for MathJax to typeset the page, then writes its findings into the
# page, which --dump-dom prints (the copies stay: opened in a browser, each shows its report at
# the bottom). Fails when a page has
#   - raw TeX in its text (\f$, \(, $$, \frac, ...) after MathJax ran, or MathJax did not run;
#   - a formula MathJax could not typeset (a TeX error or a MathJax error);
#   - an image the browser could not show (a missing file or one that is not a picture), or a
#     PNG file of the site that is cut short (which a browser shows in part);
#   - previous/next bars missing, hidden, or leading elsewhere than the book's order says;
#   - a script or style sheet that does not load.
# The checks run inside the page because only the browser knows whether an image could be
# drawn, whether a bar is shown, and which formulas MathJax typeset; the page's HTML alone does
# not say. Chromium runs with --virtual-time-budget: the page's timers (MathJax's, and the
# script's 20 s limit) run without waiting, and the page is printed once 30 s of that virtual
# time have passed, in one to two seconds of real time.
cmake_minimum_required(VERSION 3.23)  # string(TIMESTAMP) with %f
foreach(var SITE BOOK SCRIPT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CheckBrowser.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED CHROMIUM)
  set(CHROMIUM chromium)
endif()
find_program(chromium_path NAMES "${CHROMIUM}" NO_CACHE)
if(NOT chromium_path)
  message(FATAL_ERROR "CheckBrowser.cmake: ${CHROMIUM} not found. The browser test needs "
                      "Debian's chromium package (listed in .ci/packages.txt; `make test` "
                      "installs it, or: sudo apt-get install chromium)")
endif()
set(html "${SITE}/html")
if(DEFINED WORK)
  set(work "${WORK}")
else()
  set(work "${SITE}/browser-check")
endif()
if(NOT EXISTS "${html}/index.html")
  message(FATAL_ERROR "CheckBrowser.cmake: no site in ${html}")
endif()
if(NOT EXISTS "${SCRIPT}")
  message(FATAL_ERROR "CheckBrowser.cmake: no ${SCRIPT}")
endif()

string(REPLACE "," ";" book "${BOOK}")
if(DEFINED PAGES)
  string(REPLACE "," ";" pages "${PAGES}")
else()
  set(pages ${book})
endif()

# file:// URLs of a folder and of a file; the few characters a path may hold that a URL may not.
function(file_url path out)
  string(REPLACE "%" "%25" path "${path}")
  string(REPLACE " " "%20" path "${path}")
  string(REPLACE "#" "%23" path "${path}")
  set(${out} "file://${path}" PARENT_SCOPE)
endfunction()
file(REAL_PATH "${html}" html_real)
file(REAL_PATH "${SCRIPT}" script_real)
file_url("${html_real}/" base_url)
file_url("${script_real}" script_url)

# Whether a PNG file is whole: the PNG signature first and the IEND chunk last. A browser
# draws the part of a cut-short PNG that is there, and gives it its full width.
function(check_png file out)
  set(${out} "" PARENT_SCOPE)
  file(SIZE "${file}" size)
  if(size LESS 57)  # signature (8), IHDR chunk (25), an IDAT chunk (12 or more), IEND (12)
    set(${out} "is not a whole PNG file (${size} bytes)" PARENT_SCOPE)
    return()
  endif()
  file(READ "${file}" signature LIMIT 8 HEX)
  math(EXPR from "${size} - 12")
  file(READ "${file}" ending OFFSET ${from} LIMIT 12 HEX)
  if(NOT signature STREQUAL "89504e470d0a1a0a")
    set(${out} "is not a PNG file (no PNG signature)" PARENT_SCOPE)
  elseif(NOT ending STREQUAL "0000000049454e44ae426082")
    set(${out} "is not a whole PNG file (it does not end with the IEND chunk)" PARENT_SCOPE)
  endif()
endfunction()

function(elapsed_ms since out)
  string(TIMESTAMP now "%s%f" UTC)
  math(EXPR ms "(${now} - ${since}) / 1000")
  set(${out} ${ms} PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${work}")
file(MAKE_DIRECTORY "${work}")
set(profile "${work}/chromium-profile")
set(problems "")  # one line per problem, each starting with "\n  "
set(whole_images "")  # image files found whole, not checked again
string(ASCII 1 semicolon)  # stands for ";" in text that passes through a CMake list
string(TIMESTAMP started "%s%f" UTC)
list(LENGTH book count)
foreach(name IN LISTS pages)
  list(FIND book "${name}" i)
  if(i EQUAL -1)
    message(FATAL_ERROR "CheckBrowser.cmake: ${name} is not in BOOK")
  endif()
  if(NOT EXISTS "${html}/${name}.html")
    string(APPEND problems "\n  ${name}.html: missing")
    continue()
  endif()

  # Where its bars must lead.
  math(EXPR before "${i} - 1")
  math(EXPR after "${i} + 1")
  if(i EQUAL 0)
    set(expected "null")
  else()
    list(GET book ${before} previous)
    set(next "")
    if(after LESS count)
      list(GET book ${after} next)
      set(next "${next}.html")
    endif()
    set(expected "{ previous: \"${previous}.html\", next: \"${next}\" }")
  endif()

  file(READ "${html}/${name}.html" text)
  string(FIND "${text}" "<head>" at)
  if(at EQUAL -1)
    string(APPEND problems "\n  ${name}.html: no <head>")
    continue()
  endif()
  math(EXPR at "${at} + 6")
  string(SUBSTRING "${text}" 0 ${at} head)
  string(SUBSTRING "${text}" ${at} -1 rest)
  file(WRITE "${work}/${name}.html"
    "${head}\n<base href=\"${base_url}\"/>\n"
    "<script type=\"text/javascript\">window.cnnBrowserCheck = ${expected};</script>\n"
    "<script type=\"text/javascript\" src=\"${script_url}\"></script>${rest}")

  string(TIMESTAMP page_started "%s%f" UTC)
  file_url("${work}/${name}.html" url)
  execute_process(
    COMMAND "${chromium_path}" --headless --no-sandbox --disable-gpu
            --disable-background-networking --disable-component-update
            "--user-data-dir=${profile}" --window-size=1280,900
            --virtual-time-budget=30000 --dump-dom "${url}"
    RESULT_VARIABLE status OUTPUT_VARIABLE dom ERROR_VARIABLE log TIMEOUT 120)
  elapsed_ms(${page_started} ms)

  if(NOT dom MATCHES "<pre id=\"browser-check\">([^<]*)</pre>")
    # Chromium's log, without its complaints about the missing desktop bus of a server.
    string(REGEX REPLACE "[^\n]*(dbus|D-Bus)[^\n]*\n?" "" log "${log}")
    string(LENGTH "${log}" length)
    if(length GREATER 2000)
      math(EXPR from "${length} - 2000")
      string(SUBSTRING "${log}" ${from} -1 log)
    endif()
    string(APPEND problems "\n  ${name}.html: no report from ${SCRIPT} in the page: it did not "
                           "load, or the page did not finish loading (Chromium's exit status "
                           "${status}), the end of Chromium's log:\n${log}")
    continue()
  endif()
  set(report "${CMAKE_MATCH_1}")
  foreach(entity IN ITEMS "&lt;|<" "&gt;|>" "&quot;|\"" "&#39;|'" "&amp;|&")
    string(REPLACE "|" ";" pair "${entity}")
    list(GET pair 0 from)
    list(GET pair 1 to)
    string(REPLACE "${from}" "${to}" report "${report}")
  endforeach()
  if(NOT report MATCHES "\nend\n$")
    string(APPEND problems "\n  ${name}.html: the page's check stopped before its end:\n${report}")
    continue()
  endif()
  string(REGEX MATCH "^checked: [^\n]*" summary "${report}")
  string(REPLACE ";" "${semicolon}" report "${report}")
  string(REGEX MATCHALL "\nproblem: [^\n]*" found "${report}")
  string(REGEX MATCHALL "\nimage: [^\n]*" images "${report}")
  foreach(image IN LISTS images)
    string(REGEX REPLACE "^\nimage: " "" image "${image}")
    string(REPLACE "%20" " " image "${image}")
    string(TOLOWER "${image}" lower)
    if(NOT lower MATCHES "[.]png$" OR image IN_LIST whole_images
       OR NOT EXISTS "${html}/${image}")  # a missing file is a problem the page reported
      continue()
    endif()
    check_png("${html}/${image}" wrong)
    if(wrong)
      list(APPEND found "\nproblem: broken image: ${image} ${wrong}")
    else()
      list(APPEND whole_images "${image}")
    endif()
  endforeach()
  list(LENGTH found n)
  if(n EQUAL 0)
    message(STATUS "${name}.html: ${summary}; no problem (${ms} ms)")
  else()
    set(plural "s")
    if(n EQUAL 1)
      set(plural "")
    endif()
    message(STATUS "${name}.html: ${summary}; ${n} problem${plural} (${ms} ms)")
    foreach(problem IN LISTS found)
      string(REGEX REPLACE "^\nproblem: " "" problem "${problem}")
      string(REPLACE "${semicolon}" ";" problem "${problem}")
      string(APPEND problems "\n  ${name}.html: ${problem}")
    endforeach()
  endif()
endforeach()
file(REMOVE_RECURSE "${profile}")
elapsed_ms(${started} ms)

list(LENGTH pages opened)
if(problems)
  message(FATAL_ERROR "The site ${html} has problems in the browser:${problems}")
endif()
message(STATUS "Browser check: ${opened} pages opened in ${CHROMIUM}, no problem (${ms} ms)")
