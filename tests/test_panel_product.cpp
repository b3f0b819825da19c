#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/fast/panel_product.hpp"
#include "cnn/tensor/random.hpp"

namespace {

// C (t, n) = A (t, k) B (k, n), row-major, summed in double: the reference.
std::vector<double> reference_product(std::size_t t, std::size_t n, std::size_t k,
                                      const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<double> c(t * n, 0.0);
    for (std::size_t i = 0; i < t; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            for (std::size_t p = 0; p < k; ++p) {
                c[i * n + j] += static_cast<double>(a[i * k + p]) * b[p * n + j];
            }
        }
    }
    return c;
}

std::vector<float> random_values(std::size_t count, cnn::Rng& rng) {
    std::vector<float> v(count);
    for (float& x : v) {
        x = static_cast<float>(rng.normal());
    }
    return v;
}

}  // namespace

TEST_CASE("pack_panels: B's columns in panels of 32, zeros past the last") {
    // B (2, 3) = [[1, 2, 3], [4, 5, 6]]: one panel of 2 rows of 32, 29 zeros after each row.
    const std::vector<float> b = {1, 2, 3, 4, 5, 6};
    std::vector<float> panels(cnn::panel_floats(2, 3), -1.0f);
    REQUIRE(panels.size() == 64);
    cnn::pack_panels(2, 3, b.data(), panels.data());
    std::vector<float> expected(64, 0.0f);
    expected[0] = 1, expected[1] = 2, expected[2] = 3;
    expected[32] = 4, expected[33] = 5, expected[34] = 6;
    CHECK(panels == expected);

    // Column 40 of a (3, 70) B: panel 1 (columns 32-63), row r, place 8.
    CHECK(cnn::panel_floats(3, 70) == 3 * 96);
    CHECK(cnn::panel_index(3, 0, 40) == 3 * 32 + 8);
    CHECK(cnn::panel_index(3, 2, 40) == 3 * 32 + 2 * 32 + 8);
    CHECK(cnn::panel_index(3, 1, 69) == 2 * 3 * 32 + 32 + 5);
}

TEST_CASE("multiply_panels: a product computed by hand") {
    // [[1, 2], [3, 4]] [[5, 6], [7, 8]] = [[1*5 + 2*7, 1*6 + 2*8], [3*5 + 4*7, 3*6 + 4*8]]
    const std::vector<float> a = {1, 2, 3, 4}, b = {5, 6, 7, 8};
    std::vector<float> panels(cnn::panel_floats(2, 2));
    cnn::pack_panels(2, 2, b.data(), panels.data());
    std::vector<float> c(4, -1.0f);
    cnn::multiply_panels(cnn::Op::none, 2, 2, 2, a.data(), panels.data(), 0.0f, c.data());
    CHECK(c == std::vector<float>{19, 22, 43, 50});
}

TEST_CASE("multiply_panels equals the reference on every split of rows and panels") {
    // Rows: fewer than, exactly and more than a block of 14 (AVX-512) or 6 (AVX2), and the
    // 4-row and 1-row blocks after them; columns: part of a panel, one, and one and a part
    // (where the last panel is filled less than halfway and more than halfway: without
    // AVX-512 each kernel call takes half a panel, 16 columns, so 15, 16 and 17 matter too). A as
    // stored and transposed; C overwritten (beta = 0, over values that must not matter) and added
    // to.
    cnn::Rng rng(2024);
    const std::size_t sentinels = 40;
    double worst = 0.0;
    int tried = 0;
    for (const cnn::Op op : {cnn::Op::none, cnn::Op::transpose}) {
        for (const float beta : {0.0f, 1.0f, -0.5f}) {
            for (std::size_t t : {1, 2, 3, 4, 5, 7, 13, 14, 15, 18, 19, 28, 33, 45}) {
                for (std::size_t n : {1, 15, 16, 17, 31, 32, 33, 40, 64, 70}) {
                    for (std::size_t k : {1, 2, 9, 64}) {
                        CAPTURE(op == cnn::Op::transpose);
                        CAPTURE(beta);
                        CAPTURE(t);
                        CAPTURE(n);
                        CAPTURE(k);
                        const std::vector<float> a = random_values(t * k, rng);
                        const std::vector<float> b = random_values(k * n, rng);
                        std::vector<float> stored = a;  // A (t, k), or A^T (k, t)
                        if (op == cnn::Op::transpose) {
                            for (std::size_t i = 0; i < t; ++i) {
                                for (std::size_t p = 0; p < k; ++p) {
                                    stored[p * t + i] = a[i * k + p];
                                }
                            }
                        }
                        std::vector<float> panels(cnn::panel_floats(k, n));
                        cnn::pack_panels(k, n, b.data(), panels.data());
                        // C's earlier values, then values past C that must be left alone. With
                        // beta = 0 C holds NaN: a kernel that read it would spread it.
                        std::vector<float> c = random_values(t * n, rng);
                        std::vector<double> expected = reference_product(t, n, k, a, b);
                        for (std::size_t i = 0; i < t * n; ++i) {
                            expected[i] += beta == 0.0f ? 0.0 : double(beta) * c[i];
                            c[i] = beta == 0.0f ? std::nanf("") : c[i];
                        }
                        c.resize(t * n + sentinels, 12345.0f);
                        cnn::multiply_panels(op, t, n, k, stored.data(), panels.data(), beta,
                                             c.data());
                        double error = 0.0;
                        bool all_close = true;  // false for a NaN too
                        for (std::size_t i = 0; i < t * n; ++i) {
                            const double diff = std::abs(c[i] - expected[i]);
                            all_close = all_close && diff < 1e-4;
                            error = std::max(error, diff);
                        }
                        CHECK(all_close);
                        worst = std::max(worst, error);
                        CHECK(std::all_of(c.begin() + t * n, c.end(),  // nothing past C
                                          [](float v) { return v == 12345.0f; }));
                        ++tried;
                    }
                }
            }
        }
    }
    CHECK(tried == 2 * 3 * 14 * 10 * 4);
    // Sums of up to 64 products of normal values: a few float roundings.
    CHECK(worst < 2e-5);
}
