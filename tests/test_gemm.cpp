#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/tensor/gemm.hpp"
#include "test_support.hpp"

using cnn::Op;
using cnn::Tensor2;

TEST_CASE("gemm: a product computed by hand, with transposes and accumulation") {
    const Tensor2 a = {{1, 2, 3}, {4, 5, 6}};      // (2, 3)
    const Tensor2 b = {{7, 8}, {9, 10}, {11, 12}};  // (3, 2)
    // [1*7 + 2*9 + 3*11, 1*8 + 2*10 + 3*12] = [58, 64]; [4*7 + 5*9 + 6*11, ...] = [139, 154]
    const Tensor2 ab = {{58, 64}, {139, 154}};
    Tensor2 c = xt::zeros<float>({2, 2});
    cnn::gemm(a, Op::none, b, Op::none, c);
    CHECK(cnn::testing::max_abs_diff(c, ab) == 0);
    cnn::gemm(a, Op::none, b, Op::none, c, 1.0f);  // beta = 1 adds
    CHECK(cnn::testing::max_abs_diff(c, 2.0f * ab) == 0);

    const Tensor2 at = xt::transpose(a);
    const Tensor2 bt = xt::transpose(b);
    Tensor2 c2 = Tensor2::from_shape({2, 2});
    cnn::gemm(at, Op::transpose, bt, Op::transpose, c2);
    CHECK(cnn::testing::max_abs_diff(c2, ab) == 0);
    Tensor2 ata = Tensor2::from_shape({3, 3});  // a^T a: (3, 2)(2, 3)
    cnn::gemm(a, Op::transpose, a, Op::none, ata);
    CHECK(ata(0, 0) == 17);  // 1*1 + 4*4
    CHECK(ata(1, 2) == 36);  // 2*3 + 5*6
}

TEST_CASE("gemm: mismatched shapes name all three") {
    const Tensor2 a = xt::zeros<float>({2, 3});
    Tensor2 c = xt::zeros<float>({2, 2});
    CHECK_THROWS_WITH_AS(cnn::gemm(a, Op::none, a, Op::none, c, 0.0f),
                         doctest::Contains("op(a) = a is (2, 3), op(b) = b is (2, 3)"),
                         std::invalid_argument);
}

TEST_CASE("gemm: the number of BLAS threads can be set and read back") {
    const int before = cnn::blas_threads();
    REQUIRE(before >= 1);
    cnn::set_blas_threads(1);
    CHECK(cnn::blas_threads() == 1);
    CHECK_THROWS_AS(cnn::set_blas_threads(0), std::invalid_argument);
    cnn::set_blas_threads(before);
    CHECK(cnn::blas_threads() == before);
}
