# Checks that chapter 06's --checkpoint/--resume continue a run exactly: a quick run of 2
# epochs, against 1 epoch with a checkpoint followed by a resumed run up to 2 epochs. The
# saved weights' manifests (which hold the SHA-256 of every weight file) must be identical.
# Then a resume to fewer epochs than the checkpoint holds must be refused, naming --epochs,
# and a resume after a save interrupted between its renames must continue from its copy.
#   cmake -DPROGRAM=ch06_keras_model -DWORK=dir -P CheckResume.cmake
foreach(var PROGRAM WORK)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "CheckResume.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")

function(run name)
  execute_process(COMMAND "${PROGRAM}" --quick --out "${WORK}/${name}" ${ARGN}
    RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} --quick ${ARGN} failed (exit status ${status}):\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

run(straight --epochs 2)
run(interrupted --epochs 1 --checkpoint "${WORK}/checkpoint")
run(interrupted --epochs 2 --checkpoint "${WORK}/checkpoint" --resume)
if(NOT output MATCHES "Resuming from [^\n]*checkpoint: 1 of 2 epochs done")
  message(FATAL_ERROR "the resumed run did not say it resumed after epoch 1:\n${output}")
endif()
# Fewer epochs than the checkpoint holds: refused before training, naming --epochs.
execute_process(COMMAND "${PROGRAM}" --quick --out "${WORK}/fewer" --epochs 1
                        --checkpoint "${WORK}/checkpoint" --resume
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(status EQUAL 0 OR NOT err MATCHES "--epochs 1: the checkpoint in [^\n]*checkpoint holds 2 completed epochs already; ask for --epochs 2 or more")
  message(FATAL_ERROR "--epochs 1 on a 2-epoch checkpoint was not refused as expected "
                      "(exit status ${status}):\n${out}\n${err}")
endif()
# A kill between the two renames of a save leaves no checkpoint, only its copies beside it:
# --resume must put the newest complete one back and continue (here, with nothing left to do).
file(RENAME "${WORK}/checkpoint" "${WORK}/checkpoint.new-0000abcd")
run(after-kill --epochs 2 --checkpoint "${WORK}/checkpoint" --resume)
if(NOT output MATCHES "checkpoint: an interrupted save left checkpoint.new-0000abcd; kept the checkpoint of epoch 2"
   OR NOT output MATCHES "Resuming from [^\n]*checkpoint: 2 of 2 epochs done")
  message(FATAL_ERROR "--resume after an interrupted save did not continue from it:\n${output}")
endif()
file(READ "${WORK}/straight/ch06_weights/manifest.txt" straight)
file(READ "${WORK}/interrupted/ch06_weights/manifest.txt" resumed)
if(NOT straight STREQUAL resumed)
  message(FATAL_ERROR "the resumed run's weights differ from the uninterrupted run's:\n"
                      "${straight}\n---\n${resumed}")
endif()
message(STATUS "resumed run == uninterrupted run (same weight checksums)")
