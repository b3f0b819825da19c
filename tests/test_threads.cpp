#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>
#include <utility>
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

TEST_CASE("run_ranges covers every item once, in contiguous ranges, fewer of them for small work") {
    const std::size_t saved = cnn::thread_count();
    cnn::set_thread_count(3);
    const std::size_t threads = cnn::thread_count();  // 1 without OpenMP
    const std::size_t enough = 3 * cnn::min_values_per_thread;
    for (const std::size_t count : {0, 1, 2, 7, 100}) {
        for (const std::size_t values : {std::size_t{10}, enough - 1, enough}) {
            CAPTURE(count);
            CAPTURE(values);
            std::mutex lock;
            std::vector<std::pair<std::size_t, std::size_t>> ranges;
            cnn::run_ranges(count, values, [&](std::size_t first, std::size_t last) {
                const std::lock_guard<std::mutex> hold(lock);
                ranges.emplace_back(first, last);
            });
            std::sort(ranges.begin(), ranges.end());
            std::size_t next = 0;  // the ranges follow each other from 0 to count
            for (const auto& [first, last] : ranges) {
                CHECK(first == next);
                next = last;
            }
            CHECK(next == count);
            // One range per thread, but no more than the items nor than the work is worth.
            const std::size_t worth = std::max<std::size_t>(1, values / cnn::min_values_per_thread);
            CHECK(ranges.size() == std::max<std::size_t>(1, std::min({threads, count, worth})));
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

TEST_CASE("run_items gives every item to exactly one thread, whatever the thread count") {
    const std::size_t saved = cnn::thread_count();
    for (std::size_t threads : {1, 2, 5}) {
        cnn::set_thread_count(threads);
        for (std::size_t shares : {1, 2, 3}) {
            for (std::size_t count : {0, 1, 2, 9, 100}) {
                CAPTURE(threads);
                CAPTURE(shares);
                CAPTURE(count);
                std::vector<int> runs(count, 0);             // each item writes its own slot
                std::vector<std::size_t> by(count, shares);  // and which share ran it
                cnn::run_items(count, shares, [&](std::size_t item, std::size_t share) {
                    ++runs[item];
                    by[item] = share;
                });
                CHECK(runs == std::vector<int>(count, 1));
                CHECK(std::all_of(by.begin(), by.end(), [&](std::size_t s) { return s < shares; }));
            }
        }
    }
    cnn::set_thread_count(saved);
}
