// Tests of ops/upsample_fast.hpp: the same values as ops/upsample.hpp's loops, on one thread
// and on several, for every factor and map size where the row copies could go wrong.
#include <cstddef>
#include <stdexcept>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/fast/threads.hpp"
#include "cnn/ops/upsample.hpp"
#include "cnn/ops/upsample_fast.hpp"
#include "test_support.hpp"

using cnn::Tensor4;
using cnn::UpsampleFactors;
using cnn::testing::max_abs_diff;

namespace {

// Restores the library's thread count when a test ends.
struct ThreadCount {
    std::size_t before = cnn::thread_count();
    ~ThreadCount() { cnn::set_thread_count(before); }
};

}  // namespace

TEST_CASE("fast upsampling equals the loops of ops/upsample.hpp: factors, map sizes, batches, threads") {
    ThreadCount restore;
    cnn::Rng rng(17);
    const std::vector<UpsampleFactors> factors = {{1, 1}, {2, 2}, {3, 2}, {1, 4}, {2, 3}, {4, 4}};
    // Maps from 1x1 up, and tensors large enough that run_ranges() splits them between threads:
    // it gives a thread min_values_per_thread = 32768 values read and written at least. At
    // factor 2, (4, 16, 12, 12) reads 9,216 and writes 36,864 values, one share; it splits only
    // at factor 4x4 (156,672 values). (4, 16, 24, 24) at factor 2 moves 184,320, five shares'
    // worth: with 2 or 3 threads set, its factor-2 passes run on all of them.
    static_assert(cnn::min_values_per_thread == 32768, "the shapes below were chosen for 32768");
    const std::vector<std::array<std::size_t, 4>> shapes = {
        {1, 1, 1, 1}, {2, 3, 1, 5}, {3, 2, 4, 1}, {2, 3, 5, 7}, {4, 16, 12, 12}, {4, 16, 24, 24}};
    for (const std::size_t threads : {1, 2, 3}) {
        cnn::set_thread_count(threads);
        for (const UpsampleFactors& f : factors) {
            for (const auto& shape : shapes) {
                CAPTURE(threads);
                CAPTURE(f.rows);
                CAPTURE(f.cols);
                CAPTURE(shape[2]);
                CAPTURE(shape[3]);
                const Tensor4 x = cnn::testing::random_tensor<4>(shape, rng);
                const Tensor4 dy = cnn::testing::random_tensor<4>(
                    {shape[0], shape[1], shape[2] * f.rows, shape[3] * f.cols}, rng);
                // Nearest copies and sums in the same order: the same bits.
                CHECK(max_abs_diff(cnn::upsample_nearest_fast_forward(x, f),
                                   cnn::upsample_nearest_forward(x, f)) == 0);
                CHECK(max_abs_diff(cnn::upsample_nearest_fast_backward(dy, f),
                                   cnn::upsample_nearest_backward(dy, f)) == 0);
                // Bilinear: the same products, but the backward pass adds them in another order
                // (and the compiler may fuse a multiply and an add differently): equal up to
                // float rounding.
                CHECK(max_abs_diff(cnn::upsample_bilinear_fast_forward(x, f),
                                   cnn::upsample_bilinear_forward(x, f)) < 1e-5);
                CHECK(max_abs_diff(cnn::upsample_bilinear_fast_backward(dy, f),
                                   cnn::upsample_bilinear_backward(dy, f)) < 1e-5);
            }
        }
    }
}

TEST_CASE("fast upsampling rejects a factor of 0 and a dy that no factor explains") {
    const Tensor4 x = xt::zeros<float>({1, 2, 3, 3});
    const UpsampleFactors zero{0, 2};
    CHECK_THROWS_WITH_AS(cnn::upsample_nearest_fast_forward(x, zero),
                         doctest::Contains("factors of at least 1"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::upsample_bilinear_fast_forward(x, zero),
                         doctest::Contains("factors of at least 1"), std::invalid_argument);
    const Tensor4 dy = xt::zeros<float>({1, 2, 5, 6});  // 5 rows: no multiple of 2
    CHECK_THROWS_WITH_AS(cnn::upsample_nearest_fast_backward(dy, {2, 2}),
                         doctest::Contains("dy (1, 2, 5, 6)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::upsample_bilinear_fast_backward(dy, {2, 2}),
                         doctest::Contains("multiples"), std::invalid_argument);
    CHECK_THROWS_AS(cnn::upsample_bilinear_fast_backward(dy, zero), std::invalid_argument);
}
