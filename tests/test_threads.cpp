#include <doctest/doctest.h>

#include <vector>

#include "cnn/fast/threads.hpp"
#include "cnn/tensor/gemm.hpp"

TEST_CASE("run_shares runs every share exactly once, whatever the thread count") {
    const std::size_t saved = cnn::thread_count();
    for (std::size_t threads : {1, 2, 5}) {
        cnn::set_thread_count(threads);
        CHECK(cnn::thread_count() == (cnn::has_openmp() ? threads : 1));
        for (std::size_t shares : {1, 2, 3, 7}) {
            std::vector<int> runs(shares, 0);  // each share writes only its own slot
            cnn::run_shares(shares, [&](std::size_t share) { ++runs[share]; });
            CHECK(runs == std::vector<int>(shares, 1));
        }
    }
    cnn::set_thread_count(saved);
}

TEST_CASE("ScopedBlasThreads gives the old OpenBLAS thread count back") {
    cnn::keep_blas_on_one_thread();
    CHECK(cnn::blas_threads() == 1);
    {
        const cnn::ScopedBlasThreads two(2);
        CHECK(cnn::blas_threads() == 2);
    }
    CHECK(cnn::blas_threads() == 1);
}
