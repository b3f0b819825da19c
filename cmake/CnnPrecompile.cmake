# cnn_precompile_headers(target header...): the headers, parsed once for the whole target
# instead of once per source (CMake's precompiled headers; each source is compiled as if it
# began by including them).
# cnn_reuse_precompiled_headers(target from): the target uses `from`'s, built with the same
# flags.
#
# xtensor, fmt and doctest are large: parsing xtensor's headers alone takes about 3 s,
# against 4-6 s for a whole library source at -O3 (and nearly all of one at the sanitizer
# build's -O0). With CNN_PRECOMPILE=OFF both do nothing, so that a build can check that every
# source includes what it uses, which precompiled headers would hide.
function(cnn_precompile_headers target)
  if(CNN_PRECOMPILE)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()

function(cnn_reuse_precompiled_headers target from)
  if(CNN_PRECOMPILE)
    target_precompile_headers(${target} REUSE_FROM ${from})
  endif()
endfunction()
