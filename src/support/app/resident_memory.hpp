/// \file
/// \ingroup support
/// \brief This process's memory as Linux counts it: resident now, its peak, and a reset of
/// the peak so that one piece of work can be measured.
///
/// The resident set is every page of the process that sits in RAM: tensors, OpenBLAS's
/// buffers, thread stacks, the program's code. Linux keeps its high-water mark (VmHWM in
/// /proc/self/status) and lets a process restart it from the current value (writing 5 to
/// /proc/self/clear_refs, Linux 4.0 and later). Measured this way, the peak of a training
/// step is everything the step touched, whoever allocated it.
///
/// One precaution makes the figures honest: the C library keeps freed memory for later
/// instead of handing it back, so without it the resident set only grows and a peak says
/// little about the work that ran last. return_freed_memory() asks it to give large blocks
/// back as soon as they are freed.
#pragma once

namespace cnn {

/// Resident memory of this process, in megabytes (2^20 bytes).
struct ResidentMemory {
    double now_mb = 0;   ///< VmRSS: resident now
    double peak_mb = 0;  ///< VmHWM: the most resident at once since start or the last reset
};

/// Reads /proc/self/status; throws std::runtime_error where it cannot (not Linux).
/// \return the resident size now and its peak
ResidentMemory resident_memory();

/// Restarts the peak from the current resident size; throws std::runtime_error, saying why,
/// when the kernel refuses.
void reset_resident_peak();

/// Gives the memory freed so far back to the system (glibc's malloc_trim: a later reuse of
/// it counts as resident again), and from now on takes every block of 128 KiB or more from
/// the system on its own and gives it back when freed (mallopt M_MMAP_THRESHOLD; fixing the
/// threshold also stops glibc from raising it as large blocks come and go), and gives back
/// free memory at the top of the heap beyond 128 KiB (M_TRIM_THRESHOLD). Call it before
/// taking the resident size that a peak is compared with. Slower for programs that allocate
/// large blocks often; meant for measuring.
void return_freed_memory();

}  // namespace cnn
