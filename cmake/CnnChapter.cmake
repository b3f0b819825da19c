# cnn_add_chapter(NUMBER NN NAME name FILES file...)
#
# Makes everything one chapter needs, from chapters/NN_name/main.cpp:
#   - the executable chNN_name, linked to cnn::support (which brings cnn::cnn);
#   - the full run that `make demo` makes: chNN_name --out <build>/out/chNN, with its standard
#     output captured in output.txt beside the plots (redone only when the program changes);
#   - the CTest smoke test chNN_name_quick: the same with --quick into <build>/out-quick/chNN,
#     which fails unless the run succeeds and writes every file in FILES.
# FILES are the plots and tables the chapter page shows; each starts with "chNN_" because
# Doxygen finds images by file name alone.
set(CNN_RUN_CHAPTER_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/RunChapter.cmake")
set(CNN_EXPECT_FAILURE_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/ExpectFailure.cmake")

# cnn_add_failure_test(NAME name EXPECT_ERROR regex COMMAND target args...)
# A test that runs a chapter program on bad input and passes only when it exits non-zero with an
# error message matching the regex: a clear error, never a crash or a silent success.
function(cnn_add_failure_test)
  cmake_parse_arguments(PARSE_ARGV 0 FT "" "NAME;EXPECT_ERROR" "COMMAND")
  list(POP_FRONT FT_COMMAND target)
  add_test(NAME ${FT_NAME}
    COMMAND "${CMAKE_COMMAND}" "-DCOMMAND=$<TARGET_FILE:${target}>;${FT_COMMAND}"
            "-DEXPECT_ERROR=${FT_EXPECT_ERROR}" -P "${CNN_EXPECT_FAILURE_SCRIPT}")
endfunction()

function(cnn_add_chapter)
  cmake_parse_arguments(PARSE_ARGV 0 CH "" "NUMBER;NAME" "FILES")
  set(target "ch${CH_NUMBER}_${CH_NAME}")
  set(folder "${CMAKE_CURRENT_SOURCE_DIR}/${CH_NUMBER}_${CH_NAME}")
  foreach(file IN LISTS CH_FILES)
    if(NOT file MATCHES "^ch${CH_NUMBER}_")
      message(FATAL_ERROR "${target}: output ${file} must start with ch${CH_NUMBER}_")
    endif()
  endforeach()

  add_executable(${target} "${folder}/main.cpp")
  target_link_libraries(${target} PRIVATE cnn::support)
  cnn_set_warnings(${target})
  cnn_reuse_precompiled_headers(${target} cnn_chapter_pch)

  # The list travels as one comma-separated argument: a CMake list would split into many.
  list(JOIN CH_FILES "," expect)
  set(run_args
    -DPROGRAM=$<TARGET_FILE:${target}>
    "-DEXPECT=${expect}"
    -P "${CNN_RUN_CHAPTER_SCRIPT}")

  # The full run, for `make demo` and the textbook site.
  set(out "${CNN_OUT_DIR}/ch${CH_NUMBER}")
  add_custom_command(
    OUTPUT "${out}/output.txt"
    COMMAND "${CMAKE_COMMAND}" "-DOUT=${out}" ${run_args}
    DEPENDS ${target} "${CNN_RUN_CHAPTER_SCRIPT}"
    COMMENT "Running ${target} (full run; plots and output go to ${out})"
    USES_TERMINAL
    VERBATIM)
  add_custom_target(run_${target} DEPENDS "${out}/output.txt")
  # One full run at a time, in chapter order: they time themselves and must not compete.
  get_property(previous GLOBAL PROPERTY CNN_CHAPTER_RUNS)
  if(previous)
    list(GET previous -1 last)
    add_dependencies(run_${target} ${last})
  endif()
  set_property(GLOBAL APPEND PROPERTY CNN_CHAPTER_RUNS run_${target})
  set_property(GLOBAL APPEND PROPERTY CNN_CHAPTER_NUMBERS ${CH_NUMBER})

  # The quick run, as a test; the docs test builds a site from these outputs.
  add_test(NAME ${target}_quick
    COMMAND "${CMAKE_COMMAND}" "-DOUT=${CNN_QUICK_OUT_DIR}/ch${CH_NUMBER}" -DARGS=--quick ${run_args})
  # One BLAS thread per quick run: CTest runs several at once, and OpenBLAS threads that spin
  # while waiting for a core slow a busy machine down many times over (measured: ch06 --quick
  # took 2m11s with OpenBLAS's default threads and 58s with one, beside another build).
  set_tests_properties(${target}_quick PROPERTIES FIXTURES_SETUP chapter_quick_outputs
                                                  ENVIRONMENT OPENBLAS_NUM_THREADS=1)
endfunction()
