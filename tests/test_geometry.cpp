#include <doctest/doctest.h>

#include "cnn/ops/geometry.hpp"

using cnn::AxisGeometry;
using cnn::SizePolicy;

TEST_CASE("conv_output_size: Saito's three examples") {
    // OH = (H + 2P - FH) / S + 1, computed by hand in the notes (Deep Learning from Scratch 7.2).
    CHECK(cnn::conv_output_size({4, 3, 1, {1, 1}}) == 4);   // (4 + 2 - 3) / 1 + 1
    CHECK(cnn::conv_output_size({7, 3, 2, {0, 0}}) == 3);   // (7 + 0 - 3) / 2 + 1
    CHECK(cnn::conv_output_size({28, 5, 3, {2, 2}}) == 10); // (28 + 4 - 5) / 3 + 1
    CHECK(cnn::conv_output_size({31, 5, 3, {2, 2}}) == 11); // (31 + 4 - 5) / 3 + 1
    CHECK(cnn::explain_output_size({28, 5, 3, {2, 2}}, SizePolicy::strict) ==
          "OH = (H + 2P - FH) / S + 1 = (28 + 2*2 - 5) / 3 + 1 = 27 / 3 + 1 = 10");
    CHECK(cnn::explain_output_size({31, 5, 3, {2, 2}}, SizePolicy::strict, "W") ==
          "OW = (W + 2P - FW) / S + 1 = (31 + 2*2 - 5) / 3 + 1 = 30 / 3 + 1 = 11");
}

TEST_CASE("conv_output_size: a size that is not whole is an error (strict) or rounded down (floor)") {
    // The notes' model pools 7 -> 3 with a 2x2 window and stride 2: (7 - 2) / 2 + 1 = 3.5.
    CHECK_THROWS_WITH_AS(cnn::conv_output_size({7, 2, 2, {0, 0}}, SizePolicy::strict),
                         doctest::Contains("= 5 / 2 + 1 = 3.5, not a whole number: 5 is not a "
                                           "multiple of the stride 2"),
                         cnn::GeometryError);
    CHECK(cnn::conv_output_size({7, 2, 2, {0, 0}}, SizePolicy::floor) == 3);
    CHECK(cnn::explain_output_size({7, 2, 2, {0, 0}}, SizePolicy::floor) ==
          "OH = floor((H + 2P - FH) / S) + 1 = floor((7 + 2*0 - 2) / 2) + 1 = floor(5 / 2) + 1 "
          "= 3; the last 1 row of the padded input is never covered");
    CHECK(cnn::conv_output_size({28, 5, 3, {0, 0}}, SizePolicy::floor) == 8);  // floor(23/3)+1
}

TEST_CASE("conv_output_size: impossible geometry is an error that says why") {
    CHECK_THROWS_WITH_AS(cnn::conv_output_size({4, 7, 1, {1, 1}}),
                         doctest::Contains("the window FH = 7 does not fit in the padded input "
                                           "4 + 2 = 6"),
                         cnn::GeometryError);
    CHECK_THROWS_WITH_AS(cnn::conv_output_size({8, 3, 0, {0, 0}}, SizePolicy::floor),
                         doctest::Contains("the stride S must be at least 1, got 0"),
                         cnn::GeometryError);
    CHECK_THROWS_WITH_AS(cnn::conv_output_size({8, 0, 1, {0, 0}}),
                         doctest::Contains("the window FH must be at least 1, got 0"),
                         cnn::GeometryError);
    // A window exactly as large as the padded input fits once.
    CHECK(cnn::conv_output_size({4, 6, 5, {1, 1}}) == 1);
}

TEST_CASE("keras_padding: 'valid' and 'same' by TensorFlow's documented rule") {
    // TensorFlow's "Notes on padding" (tf.nn): for 'same', out = ceil(in / stride) and
    // pad_total = max((out - 1) * stride + filter - in, 0), pad_before = pad_total // 2,
    // pad_after = pad_total - pad_before; for 'valid', no padding and
    // out = ceil((in - filter + 1) / stride). Each row: in, filter, stride, out_same,
    // (before, after), out_valid, worked out by hand from those formulas.
    struct Case {
        std::size_t in, filter, stride, out_same, before, after, out_valid;
    };
    const Case cases[] = {
        {5, 3, 2, 3, 1, 1, 2},   // pad_total = 2*2 + 3 - 5 = 2
        {6, 3, 2, 3, 0, 1, 2},   // 2*2 + 3 - 6 = 1: the extra row goes after
        {7, 4, 1, 7, 1, 2, 4},   // an even filter with stride 1: 6 + 4 - 7 = 3
        {6, 2, 2, 3, 0, 0, 3},   // windows tile exactly: 4 + 2 - 6 = 0
        {5, 4, 3, 2, 1, 1, 1},   // 3 + 4 - 5 = 2
        {10, 1, 3, 4, 0, 0, 4},  // 9 + 1 - 10 = 0
        {28, 5, 3, 10, 2, 2, 8}, // 27 + 5 - 28 = 4
        {8, 4, 2, 4, 1, 1, 3},   // 6 + 4 - 8 = 2
        {7, 2, 1, 7, 0, 1, 6},   // 6 + 2 - 7 = 1
    };
    for (const Case& c : cases) {
        CAPTURE(c.in);
        CAPTURE(c.filter);
        CAPTURE(c.stride);
        const cnn::AxisPadding same = cnn::keras_padding(cnn::PaddingMode::same, c.in, c.filter, c.stride);
        CHECK(same.before == c.before);
        CHECK(same.after == c.after);
        CHECK(cnn::conv_output_size({c.in, c.filter, c.stride, same}, SizePolicy::floor) == c.out_same);
        const cnn::AxisPadding valid = cnn::keras_padding(cnn::PaddingMode::valid, c.in, c.filter, c.stride);
        CHECK(valid.total() == 0);
        CHECK(cnn::conv_output_size({c.in, c.filter, c.stride, valid}, SizePolicy::floor) == c.out_valid);
    }
}

TEST_CASE("'same' with stride 1 keeps the size, for odd and even kernels") {
    for (std::size_t in : {1, 2, 5, 28}) {
        for (std::size_t k : {1, 2, 3, 4, 7}) {
            const cnn::AxisPadding p = cnn::keras_padding(cnn::PaddingMode::same, in, k, 1);
            CHECK(p.total() == k - 1);
            CHECK(cnn::conv_output_size({in, k, 1, p}) == in);
        }
    }
}

TEST_CASE("explain_output_size shows asymmetric padding by name") {
    CHECK(cnn::explain_output_size({6, 3, 2, {0, 1}}, SizePolicy::floor) ==
          "OH = (H + P_before + P_after - FH) / S + 1 = (6 + 0 + 1 - 3) / 2 + 1 = 4 / 2 + 1 = 3");
    const cnn::Conv2DGeometry g = cnn::Conv2DGeometry::keras(cnn::PaddingMode::same, 6, 7, 3, 2, 2, 1);
    CHECK(g.pad_rows == cnn::AxisPadding{0, 1});
    CHECK(g.pad_cols == cnn::AxisPadding{0, 1});
    CHECK(g.stride_cols == 1);
    CHECK_THROWS_AS(cnn::keras_padding(cnn::PaddingMode::same, 5, 3, 0), cnn::GeometryError);
}
