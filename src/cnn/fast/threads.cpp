#include "cnn/fast/threads.hpp"

#include "cnn/tensor/gemm.hpp"  // blas_threads(), set_blas_threads()

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cnn {

std::size_t thread_count() {
#ifdef _OPENMP
    return static_cast<std::size_t>(omp_get_max_threads());
#else
    return 1;
#endif
}

void set_thread_count(std::size_t threads) {
#ifdef _OPENMP
    omp_set_num_threads(threads == 0 ? omp_get_num_procs() : static_cast<int>(threads));
#else
    static_cast<void>(threads);
#endif
}

bool has_openmp() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

namespace {

// OpenBLAS's OpenMP build sets OpenMP's thread count along with its own: put ours back.
void set_blas_threads_only(int threads) {
    const std::size_t ours = thread_count();
    set_blas_threads(threads);
    if (thread_count() != ours) {
        set_thread_count(ours);
    }
}

}  // namespace

void keep_blas_on_one_thread() {
    // OpenBLAS's OpenMP build already runs on one thread inside our parallel regions.
    if (!blas_uses_openmp() && blas_threads() != 1) {
        set_blas_threads_only(1);
    }
}

ScopedBlasThreads::ScopedBlasThreads(std::size_t threads) : previous_(blas_threads()) {
    if (static_cast<int>(threads) != previous_) {
        set_blas_threads_only(static_cast<int>(threads));
    }
}

ScopedBlasThreads::~ScopedBlasThreads() {
    if (blas_threads() != previous_) {
        set_blas_threads_only(previous_);
    }
}

}  // namespace cnn
