#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <xtensor/xadapt.hpp>
#include <xtensor/xview.hpp>

#include "cnn/fast/engines.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/conv2d_transpose.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/ops/conv2d_naive.hpp"
#include "cnn/ops/conv2d_transpose.hpp"
#include "test_support.hpp"

using cnn::Conv2DTransposeGeometry;
using cnn::PaddingMode;
using cnn::Tensor1;
using cnn::Tensor4;
using cnn::testing::max_abs_diff;
using cnn::testing::random_tensor;

namespace {

// Keras's geometry of a square kernel k with stride s on an (h, w) input.
Conv2DTransposeGeometry keras(PaddingMode mode, std::size_t h, std::size_t w, std::size_t k,
                              std::size_t s) {
    return Conv2DTransposeGeometry::keras(mode, h, w, k, k, s, s);
}

// The geometries where bugs hide: stride 1 and 2, 'valid' and 'same' (asymmetric for the
// even kernels at stride 1 and kernel 3 at stride 2), kernels 2, 3 and 4.
struct Case {
    std::size_t kernel, stride;
    PaddingMode mode;
    const char* padding;
};
const Case cases[] = {
    {3, 1, PaddingMode::valid, "valid"}, {3, 1, PaddingMode::same, "same"},
    {3, 2, PaddingMode::valid, "valid"}, {3, 2, PaddingMode::same, "same"},
    {2, 1, PaddingMode::valid, "valid"}, {2, 1, PaddingMode::same, "same"},
    {2, 2, PaddingMode::valid, "valid"}, {2, 2, PaddingMode::same, "same"},
    {4, 1, PaddingMode::same, "same"},   {4, 2, PaddingMode::valid, "valid"},
    {4, 2, PaddingMode::same, "same"},
};

// The PyTorch cases of tests/fixtures/conv2d_transpose_torch.txt (see the script beside it).
struct TorchCase {
    std::string name, padding;
    std::size_t fh = 0, fw = 0, sr = 0, sc = 0;
    Conv2DTransposeGeometry expected;  // H_out, W_out and the padding the script worked out
    Tensor4 x, w, y, dy, dx, dw;
    Tensor1 b, db;
};

std::vector<TorchCase> read_torch_cases() {
    std::ifstream in(std::string(CNN_SOURCE_DIR) + "/tests/fixtures/conv2d_transpose_torch.txt");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/fixtures/conv2d_transpose_torch.txt");
    std::vector<TorchCase> found;
    std::size_t n = 0, c_in = 0, h = 0, w = 0, c_out = 0;
    std::string line;
    const auto fill = [](std::istringstream& fields, auto& t) {
        std::vector<float> v;
        float value = 0;
        while (fields >> value) {
            v.push_back(value);
        }
        REQUIRE(v.size() == t.size());
        std::copy(v.begin(), v.end(), t.begin());
    };
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label == "case") {
            TorchCase k;
            cnn::Conv2DGeometry& g = k.expected.conv;
            fields >> k.name >> n >> c_in >> h >> w >> c_out >> k.fh >> k.fw >> k.sr >> k.sc >>
                k.padding >> k.expected.out_rows >> k.expected.out_cols >> g.pad_rows.before >>
                g.pad_rows.after >> g.pad_cols.before >> g.pad_cols.after;
            g.stride_rows = k.sr;
            g.stride_cols = k.sc;
            k.x = Tensor4::from_shape({n, c_in, h, w});
            k.dx = Tensor4::from_shape({n, c_in, h, w});
            k.w = Tensor4::from_shape({c_in, c_out, k.fh, k.fw});
            k.dw = Tensor4::from_shape({c_in, c_out, k.fh, k.fw});
            k.y = Tensor4::from_shape({n, c_out, k.expected.out_rows, k.expected.out_cols});
            k.dy = Tensor4::from_shape({n, c_out, k.expected.out_rows, k.expected.out_cols});
            k.b = Tensor1::from_shape({c_out});
            k.db = Tensor1::from_shape({c_out});
            found.push_back(k);
            continue;
        }
        REQUIRE(!found.empty());
        TorchCase& k = found.back();
        if (label == "x") fill(fields, k.x);
        if (label == "w") fill(fields, k.w);
        if (label == "b") fill(fields, k.b);
        if (label == "y") fill(fields, k.y);
        if (label == "dy") fill(fields, k.dy);
        if (label == "dx") fill(fields, k.dx);
        if (label == "dw") fill(fields, k.dw);
        if (label == "db") fill(fields, k.db);
    }
    REQUIRE(found.size() >= 8);
    return found;
}

}  // namespace

TEST_CASE("conv_transpose_output_size: Keras's deconv_output_length, chapter 03's formula read backwards") {
    // 'valid': H S + max(FH - S, 0).
    CHECK(cnn::conv_transpose_output_size(PaddingMode::valid, 2, 3, 2) == 5);  // (2-1)*2 + 3
    CHECK(cnn::conv_transpose_output_size(PaddingMode::valid, 4, 3, 1) == 6);  // 4 + 2
    CHECK(cnn::conv_transpose_output_size(PaddingMode::valid, 3, 2, 3) == 9);  // 3*3, FH < S
    // 'same': H S.
    CHECK(cnn::conv_transpose_output_size(PaddingMode::same, 2, 3, 2) == 4);
    CHECK(cnn::conv_transpose_output_size(PaddingMode::same, 7, 4, 1) == 7);
    // The convolution it transposes maps the output size back onto the input size, for every
    // mode, kernel and stride: conv(in = H_out) = H.
    for (PaddingMode mode : {PaddingMode::valid, PaddingMode::same}) {
        for (std::size_t h = 1; h <= 6; ++h) {
            for (std::size_t k = 1; k <= 5; ++k) {
                for (std::size_t s = 1; s <= 3; ++s) {
                    const std::size_t out = cnn::conv_transpose_output_size(mode, h, k, s);
                    const cnn::AxisPadding pad = cnn::keras_padding(mode, out, k, s);
                    CAPTURE(h);
                    CAPTURE(k);
                    CAPTURE(s);
                    CHECK(cnn::conv_output_size({out, k, s, pad}, cnn::SizePolicy::floor) == h);
                }
            }
        }
    }
    // 'same' with kernel 3 and stride 2 pads asymmetrically: a total of 1, after.
    const Conv2DTransposeGeometry g = keras(PaddingMode::same, 3, 3, 3, 2);
    CHECK(g.out_rows == 6);
    CHECK(g.conv.pad_rows.before == 0);
    CHECK(g.conv.pad_rows.after == 1);
    CHECK_THROWS_AS(cnn::conv_transpose_output_size(PaddingMode::valid, 2, 3, 0), cnn::GeometryError);
    CHECK_THROWS_AS(cnn::conv_transpose_output_size(PaddingMode::same, 0, 3, 1), cnn::GeometryError);
}

TEST_CASE("conv2d_transpose_forward: each input pixel stamps the kernel, worked out by hand") {
    // x = [[1, 2], [3, 4]], kernel K = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], stride 2, 'valid':
    // pixel (i, j) adds x_ij K to rows 2i..2i+2 and columns 2j..2j+2 of a 5x5 output. The
    // stamps 1K at (0, 0), 2K at (0, 2), 3K at (2, 0) and 4K at (2, 2) overlap on row 2 and
    // column 2:
    //   row 0: 1K row 0 = 1 2 3, 2K row 0 = 2 4 6 from column 2:  1  2  3+2=5  4  6
    //   row 1: 4 5 6 and 8 10 12:                                 4  5  6+8=14 10 12
    //   row 2: 1K's 7 8 9, 2K's 14 16 18, 3K's 3 6 9, 4K's 4 8 12:
    //          7+3=10, 8+6=14, 9+14+9+4=36, 16+8=24, 18+12=30
    //   row 3: 3K row 1 = 12 15 18, 4K row 1 = 16 20 24:          12 15 18+16=34 20 24
    //   row 4: 21 24 27 and 28 32 36:                             21 24 27+28=55 32 36
    // (The total, 450, is sum(x) sum(K) = 10 * 45: every product lands somewhere.)
    const Tensor4 x = {{{{1, 2}, {3, 4}}}};
    const Tensor4 k = {{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}};
    const Tensor4 valid = {{{{1, 2, 5, 4, 6},
                             {4, 5, 14, 10, 12},
                             {10, 14, 36, 24, 30},
                             {12, 15, 34, 20, 24},
                             {21, 24, 55, 32, 36}}}};
    CHECK(max_abs_diff(cnn::conv2d_transpose_forward(x, k, Tensor1{0}, keras(PaddingMode::valid, 2, 2, 3, 2)),
                       valid) == 0);
    // 'same' makes 2 * 2 = 4 rows: the convolution of a 4x4 input with kernel 3, stride 2 pads
    // a total of (2 - 1) * 2 + 3 - 4 = 1, after, so the transposed output is the valid one
    // without its last row and column. A bias of 10 adds to every value.
    const Tensor4 same = {{{{11, 12, 15, 14}, {14, 15, 24, 20}, {20, 24, 46, 34}, {22, 25, 44, 30}}}};
    CHECK(max_abs_diff(cnn::conv2d_transpose_forward(x, k, Tensor1{10}, keras(PaddingMode::same, 2, 2, 3, 2)),
                       same) == 0);
    // The layer computes the same, through its engine.
    cnn::Rng rng(5);
    cnn::Conv2DTranspose layer = cnn::Conv2DTranspose(1, 3).strides(2);
    CHECK(layer.build({1, 2, 2}, rng) == cnn::Shape{1, 5, 5});
    layer.weights() = k;
    CHECK(max_abs_diff(layer.forward(x), valid) == 0);
}

TEST_CASE("conv2d_transpose_forward: kernel 2x2, stride 2, two input and two output channels, batch 2, by hand") {
    // With a 2x2 kernel and stride 2 the stamps do not overlap: input pixel (i, j) alone makes
    // the 2x2 block at rows 2i, 2i+1 and columns 2j, 2j+1 of the output,
    //   y[n, o, 2i+u, 2j+v] = x[n, 0, i, j] w[0, o, u, v] + x[n, 1, i, j] w[1, o, u, v] + b[o].
    // w is (C_in, C_out, 2, 2):
    //   w[0, 0] = [[1, 2], [3, 4]]   w[1, 0] = [[1, 0], [0, -1]]   b[0] = 1
    //   w[0, 1] = [[1, 1], [1, 1]]   w[1, 1] = [[0, 0], [0, 0]]    b[1] = 0
    // Output channel 1 copies x[n, 0, i, j] into its block: nearest upsampling of channel 0.
    const Tensor4 w = {{{{1, 2}, {3, 4}}, {{1, 1}, {1, 1}}}, {{{1, 0}, {0, -1}}, {{0, 0}, {0, 0}}}};
    const Tensor1 b = {1, 0};
    // Image 0: x[0, 0] = [[1, 2], [3, 4]], x[0, 1] = [[1, 0], [2, 1]].
    // Image 1: x[1, 0] = [[0, 1], [-1, 0]], x[1, 1] = [[2, 0], [0, 1]].
    const Tensor4 x = {{{{1, 2}, {3, 4}}, {{1, 0}, {2, 1}}}, {{{0, 1}, {-1, 0}}, {{2, 0}, {0, 1}}}};
    // Channel 0, image 0, block by block (x0 w[0, 0] + x1 w[1, 0] + 1):
    //   (0, 0): x0 = 1, x1 = 1: [[1+1, 2+0], [3+0, 4-1]] + 1 = [[3, 3], [4, 4]]
    //   (0, 1): x0 = 2, x1 = 0: [[2, 4], [6, 8]] + 1         = [[3, 5], [7, 9]]
    //   (1, 0): x0 = 3, x1 = 2: [[3+2, 6], [9, 12-2]] + 1    = [[6, 7], [10, 11]]
    //   (1, 1): x0 = 4, x1 = 1: [[4+1, 8], [12, 16-1]] + 1   = [[6, 9], [13, 16]]
    // Channel 0, image 1:
    //   (0, 0): x0 = 0, x1 = 2: [[2, 0], [0, -2]] + 1        = [[3, 1], [1, -1]]
    //   (0, 1): x0 = 1, x1 = 0: [[1, 2], [3, 4]] + 1         = [[2, 3], [4, 5]]
    //   (1, 0): x0 = -1, x1 = 0: [[-1, -2], [-3, -4]] + 1    = [[0, -1], [-2, -3]]
    //   (1, 1): x0 = 0, x1 = 1: [[1, 0], [0, -1]] + 1        = [[2, 1], [1, 0]]
    const Tensor4 expected = {{{{3, 3, 3, 5}, {4, 4, 7, 9}, {6, 7, 6, 9}, {10, 11, 13, 16}},
                               {{1, 1, 2, 2}, {1, 1, 2, 2}, {3, 3, 4, 4}, {3, 3, 4, 4}}},
                              {{{3, 1, 2, 3}, {1, -1, 4, 5}, {0, -1, 2, 1}, {-2, -3, 1, 0}},
                               {{0, 0, 1, 1}, {0, 0, 1, 1}, {-1, -1, 0, 0}, {-1, -1, 0, 0}}}};
    // 'valid' and 'same' agree here: (2 - 1) * 2 + 2 = 2 * 2 = 4, no padding either way.
    for (const PaddingMode mode : {PaddingMode::valid, PaddingMode::same}) {
        const Tensor4 y = cnn::conv2d_transpose_forward(x, w, b, keras(mode, 2, 2, 2, 2));
        REQUIRE(y.shape() == expected.shape());
        CHECK(max_abs_diff(y, expected) == 0);
    }
}

TEST_CASE("conv2d_transpose_forward equals the input gradient of the convolution it transposes") {
    // THE EQUALITY: y = conv2d_transpose_forward(x) is, for dy = x, what chapter 04's naive
    // loops return as dx, for a convolution from (N, C_out, H_out, W_out) to (N, C_in, H, W).
    for (const Case& c : cases) {
        CAPTURE(c.kernel);
        CAPTURE(c.stride);
        CAPTURE(c.padding);
        cnn::Rng rng(100 + 10 * c.kernel + c.stride);
        const Tensor4 x = random_tensor<4>({2, 3, 4, 5}, rng);      // N = 2, C_in = 3
        const Tensor4 w = random_tensor<4>({3, 2, c.kernel, c.kernel}, rng);  // C_out = 2
        const Conv2DTransposeGeometry g = keras(c.mode, 4, 5, c.kernel, c.stride);
        const Tensor4 y = cnn::conv2d_transpose_forward(x, w, Tensor1{0, 0}, g);
        const Tensor4 z = xt::zeros<float>({std::size_t{2}, std::size_t{2}, g.out_rows, g.out_cols});
        Tensor4 dw = xt::zeros<float>(w.shape());
        Tensor1 db = xt::zeros<float>({3});
        const Tensor4 input_gradient = cnn::conv2d_naive_backward(x, z, w, g.conv, dw, db);
        CHECK(y.shape() == input_gradient.shape());
        CHECK(max_abs_diff(y, input_gradient) < 1e-5);
    }
}

TEST_CASE("conv2d_transpose is the adjoint of the convolution: <conv(z), x> = <z, conv_transpose(x)>") {
    for (const Case& c : cases) {
        CAPTURE(c.kernel);
        CAPTURE(c.stride);
        CAPTURE(c.padding);
        cnn::Rng rng(200 + 10 * c.kernel + c.stride);
        const Conv2DTransposeGeometry g = keras(c.mode, 4, 5, c.kernel, c.stride);
        const Tensor4 x = random_tensor<4>({2, 3, 4, 5}, rng);
        const Tensor4 w = random_tensor<4>({3, 2, c.kernel, c.kernel}, rng);
        const Tensor4 z = random_tensor<4>({2, 2, g.out_rows, g.out_cols}, rng);
        const double left = cnn::testing::dot(cnn::conv2d_naive_forward(z, w, Tensor1{0, 0, 0}, g.conv), x);
        const double right = cnn::testing::dot(z, cnn::conv2d_transpose_forward(x, w, Tensor1{0, 0}, g));
        CHECK(left == doctest::Approx(right).epsilon(1e-4));
        CHECK(std::abs(left) > 1e-3);  // not a vacuous 0 = 0
    }
}

TEST_CASE("Conv2DTranspose: numerical gradient checks of x, W and b across geometries") {
    for (const Case& c : cases) {
        CAPTURE(c.kernel);
        CAPTURE(c.stride);
        CAPTURE(c.padding);
        cnn::Rng rng(300 + 10 * c.kernel + c.stride);
        cnn::Conv2DTranspose layer = cnn::Conv2DTranspose(2, c.kernel).strides(c.stride).padding(c.padding);
        layer.build({3, 4, 3}, rng);
        cnn::Tensor1& b = layer.bias();
        b = random_tensor<1>({2}, rng);  // not zero, so that a wrong bias gradient shows
        const Tensor4 x = random_tensor<4>({2, 3, 4, 3}, rng);
        CHECK(cnn::testing::check_layer_gradients(layer, x, rng, {1e-3, 5e-3}) == 0);
    }
    // Unequal strides and a kernel that is not square, 'same': asymmetric on both axes.
    cnn::Rng rng(399);
    cnn::Conv2DTranspose odd = cnn::Conv2DTranspose(3, 3).kernel_size(3, 2).strides(2, 1).padding("same");
    odd.build({2, 3, 4}, rng);
    CHECK(cnn::testing::check_layer_gradients(odd, random_tensor<4>({2, 2, 3, 4}, rng), rng, {1e-3, 5e-3}) == 0);
}

TEST_CASE("conv2d_transpose_backward: dx is the convolution of dy, dW swaps the convolution's roles") {
    cnn::Rng rng(7);
    const Conv2DTransposeGeometry g = keras(PaddingMode::same, 3, 4, 3, 2);
    const Tensor4 x = random_tensor<4>({2, 3, 3, 4}, rng);
    const Tensor4 w = random_tensor<4>({3, 2, 3, 3}, rng);
    const Tensor4 dy = random_tensor<4>({2, 2, g.out_rows, g.out_cols}, rng);
    Tensor4 dw = xt::zeros<float>(w.shape());
    Tensor1 db = xt::zeros<float>({2});
    const Tensor4 dx = cnn::conv2d_transpose_backward(dy, x, w, g, dw, db);
    // dx: the naive convolution's forward pass on dy.
    CHECK(max_abs_diff(dx, cnn::conv2d_naive_forward(dy, w, Tensor1{0, 0, 0}, g.conv)) < 1e-5);
    // dW: the naive convolution's weight gradient, input dy, output gradient x.
    Tensor4 conv_dw = xt::zeros<float>(w.shape());
    Tensor1 conv_db = xt::zeros<float>({3});
    cnn::conv2d_naive_backward(x, dy, w, g.conv, conv_dw, conv_db);
    CHECK(max_abs_diff(dw, conv_dw) < 1e-5);
    // db: dy summed over N, H_out and W_out.
    for (std::size_t o = 0; o < 2; ++o) {
        CHECK(db(o) == doctest::Approx(xt::sum(xt::view(dy, xt::all(), o))()).epsilon(1e-5));
    }
    // A second call adds to dw and db.
    cnn::conv2d_transpose_backward(dy, x, w, g, dw, db);
    CHECK(max_abs_diff(dw, 2.0f * conv_dw) < 1e-5);
}

TEST_CASE("conv2d_transpose: agrees with PyTorch's conv_transpose2d (tests/fixtures/conv2d_transpose_torch.txt)") {
    for (const TorchCase& k : read_torch_cases()) {
        CAPTURE(k.name);
        // Our Keras geometry is the one the script worked out from Keras's definitions.
        const Conv2DTransposeGeometry g = Conv2DTransposeGeometry::keras(
            cnn::parse_padding(k.padding), k.x.shape(2), k.x.shape(3), k.fh, k.fw, k.sr, k.sc);
        CHECK(g.out_rows == k.expected.out_rows);
        CHECK(g.out_cols == k.expected.out_cols);
        CHECK(g.conv.pad_rows.before == k.expected.conv.pad_rows.before);
        CHECK(g.conv.pad_rows.after == k.expected.conv.pad_rows.after);
        CHECK(g.conv.pad_cols.before == k.expected.conv.pad_cols.before);
        CHECK(g.conv.pad_cols.after == k.expected.conv.pad_cols.after);
        // The operations.
        CHECK(max_abs_diff(cnn::conv2d_transpose_forward(k.x, k.w, k.b, g), k.y) < 1e-4);
        Tensor4 dw = xt::zeros<float>(k.w.shape());
        Tensor1 db = xt::zeros<float>(k.b.shape());
        CHECK(max_abs_diff(cnn::conv2d_transpose_backward(k.dy, k.x, k.w, g, dw, db), k.dx) < 1e-4);
        CHECK(max_abs_diff(dw, k.dw) < 1e-4);
        CHECK(max_abs_diff(db, k.db) < 1e-4);
        // The layer, with chapter 04's engine and with chapter 07's.
        for (const cnn::Conv2DEngineFactory& engine :
             {cnn::Conv2DEngineFactory(cnn::make_im2col_engine), cnn::fast_conv2d_engine()}) {
            cnn::Rng rng(1);
            cnn::Conv2DTranspose layer = cnn::Conv2DTranspose(k.w.shape(1), k.fh)
                                             .kernel_size(k.fh, k.fw)
                                             .strides(k.sr, k.sc)
                                             .padding(k.padding)
                                             .engine(engine);
            layer.build({k.x.shape(1), k.x.shape(2), k.x.shape(3)}, rng);
            CAPTURE(layer.engine().name());
            layer.weights() = k.w;
            layer.bias() = k.b;
            CHECK(max_abs_diff(layer.forward(k.x, true), k.y) < 1e-4);
            cnn::zero_gradients(layer.parameters());
            CHECK(max_abs_diff(layer.backward(k.dy), k.dx) < 1e-4);
            const std::vector<cnn::Parameter> p = layer.parameters();
            const std::vector<float> dw_layer(p[0].grad, p[0].grad + p[0].size);
            const std::vector<float> db_layer(p[1].grad, p[1].grad + p[1].size);
            CHECK(max_abs_diff(xt::adapt(dw_layer, k.dw.shape()), k.dw) < 1e-4);
            CHECK(max_abs_diff(xt::adapt(db_layer, k.db.shape()), k.db) < 1e-4);
        }
    }
}

TEST_CASE("Conv2DTranspose: Glorot-uniform weights, parameters, cost, memory and the summary") {
    cnn::Rng rng(11);
    cnn::Conv2DTranspose layer = cnn::Conv2DTranspose(32, 3).strides(2).padding("same");
    CHECK(layer.build({64, 7, 7}, rng) == cnn::Shape{32, 14, 14});
    CHECK(layer.weights().shape() == std::array<std::size_t, 4>{64, 32, 3, 3});  // (C_in, C_out, FH, FW)
    CHECK(layer.parameter_count() == 32 * (64 * 9 + 1));  // 18,464, as Keras reports
    // Glorot: uniform in +-sqrt(6 / (fan_in + fan_out)), fans 32*9 and 64*9: variance limit^2 / 3.
    const double limit = std::sqrt(6.0 / (32 * 9 + 64 * 9));
    CHECK(xt::amax(xt::abs(layer.weights()))() <= limit + 1e-6);
    double sum2 = 0;
    for (float v : layer.weights()) {
        sum2 += double(v) * v;
    }
    CHECK(sum2 / double(layer.weights().size()) == doctest::Approx(limit * limit / 3).epsilon(0.03));
    CHECK(xt::all(xt::equal(layer.bias(), 0.0f)));
    // Every input pixel stamps every weight: 7 * 7 * 64 * 32 * 9 multiply-adds.
    CHECK(layer.multiply_adds({32, 14, 14}) == 7 * 7 * 64 * 32 * 9);
    CHECK(layer.engine().name() == "im2col");  // Conv2D's default
    // It keeps its input for the weight gradient.
    layer.forward(random_tensor<4>({2, 64, 7, 7}, rng), true);
    CHECK(layer.kept_for_backward() == 2 * 64 * 7 * 7 * sizeof(float));
    layer.set_name("up");
    CHECK(layer.parameters()[0].name == "up/kernel");
    CHECK(layer.parameters()[1].name == "up/bias");

    // In a model: a stride-2 Conv2D halves 8 to 4, the Conv2DTranspose doubles it back.
    cnn::Sequential model(3);
    model.add(cnn::Conv2D(4, 3).strides(2).padding("same").input_shape({1, 8, 8}));
    model.add(cnn::Conv2DTranspose(2, 3).strides(2).padding("same").activation("relu"));
    model.build();
    CHECK(model.output_shape(1) == cnn::Shape{2, 8, 8});
    CHECK(model.layer(1).parameter_count() == 2 * (4 * 9 + 1));  // 74
    std::ostringstream summary;
    model.summary(summary, {true});
    const std::string text = summary.str();
    const std::size_t row = text.find("conv2d_transpose (Conv2DTranspose)");
    REQUIRE(row != std::string::npos);
    const std::string line = text.substr(row, text.find('\n', row) - row);
    CHECK(line.find("(None, 2, 8, 8)") != std::string::npos);
    CHECK(line.find(" 74 ") != std::string::npos);
    // Multiply-adds: the Conv2D 4*4 outputs * 4*1*9 weights = 576, the Conv2DTranspose
    // 4*4 inputs * 4*2*9 weights = 1,152.
    CHECK(text.find("(1,728 multiply-adds)") != std::string::npos);
}

TEST_CASE("Conv2DTranspose: computes through the default Conv2D engine, so the fast one makes it fast") {
    cnn::set_default_conv2d_engine(cnn::fast_conv2d_engine());
    cnn::Rng a(21), b(21), rng(22);
    cnn::Conv2DTranspose fast = cnn::Conv2DTranspose(3, 4).strides(2).padding("same");
    fast.build({2, 5, 6}, a);
    cnn::set_default_conv2d_engine(nullptr);  // back to chapter 04's
    cnn::Conv2DTranspose book = cnn::Conv2DTranspose(3, 4).strides(2).padding("same");
    book.build({2, 5, 6}, b);  // the same weights
    CHECK(fast.engine().name() == "fast");
    CHECK(book.engine().name() == "im2col");
    const Tensor4 x = random_tensor<4>({3, 2, 5, 6}, rng);
    const Tensor4 y = book.forward(x, true);
    CHECK(max_abs_diff(fast.forward(x, true), y) < 1e-5);
    // The ops compute the same as the layer.
    CHECK(max_abs_diff(cnn::conv2d_transpose_forward(x, book.weights(), book.bias(), book.geometry(5, 6)), y) < 1e-5);
    const Tensor4 dy = random_tensor<4>({3, 3, 10, 12}, rng);
    cnn::zero_gradients(fast.parameters());
    cnn::zero_gradients(book.parameters());
    CHECK(max_abs_diff(fast.backward(dy), book.backward(dy)) < 1e-5);
    for (std::size_t i = 0; i < 2; ++i) {
        const cnn::Parameter p = fast.parameters()[i], q = book.parameters()[i];
        double worst = 0;
        for (std::size_t j = 0; j < p.size; ++j) {
            worst = std::max(worst, double(std::abs(p.grad[j] - q.grad[j])));
        }
        CHECK(worst < 1e-4);
    }
}

TEST_CASE("Conv2DTranspose: bad options and inputs are errors that say what was expected") {
    cnn::Rng rng(9);
    CHECK_THROWS_WITH_AS(cnn::Conv2DTranspose(0, 3).build({1, 4, 4}, rng), doctest::Contains("0 filters"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Conv2DTranspose(2, 0).build({1, 4, 4}, rng), doctest::Contains("kernel 0x0"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Conv2DTranspose(2, 3).strides(0).build({1, 4, 4}, rng),
                         doctest::Contains("stride 0x0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Conv2DTranspose(2, 3).padding("full"), doctest::Contains("expected 'valid' or 'same'"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Conv2DTranspose(2, 3).build({4, 4}, rng),
                         doctest::Contains("Conv2DTranspose conv2d_transpose: expected input (None, C, H, W)"),
                         std::invalid_argument);
    // Wrong input channels after build.
    cnn::Conv2DTranspose layer = cnn::Conv2DTranspose(2, 3).strides(2);
    layer.set_name("up_a");
    layer.build({3, 4, 4}, rng);
    CHECK_THROWS_WITH_AS(layer.forward(xt::zeros<float>({1, 2, 4, 4})),
                         doctest::Contains("Conv2DTranspose up_a: expected input (N, 3, H, W), got (1, 2, 4, 4)"),
                         std::invalid_argument);
    CHECK_THROWS_AS(layer.backward(xt::zeros<float>({1, 2, 9, 9})), std::logic_error);  // before forward
    layer.forward(xt::zeros<float>({1, 3, 4, 4}));
    CHECK_THROWS_WITH_AS(layer.backward(xt::zeros<float>({1, 2, 8, 8})),
                         doctest::Contains("expected dy (1, 2, 9, 9)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::Conv2DTranspose(2, 3).forward(xt::zeros<float>({1, 3, 4, 4})),
                         doctest::Contains("has not been built"), std::logic_error);
    // The operations: channels, bias, and a geometry whose convolution does not land on x.
    const Tensor4 w = xt::zeros<float>({3, 2, 3, 3});
    const Conv2DTransposeGeometry g = keras(PaddingMode::valid, 4, 4, 3, 2);
    CHECK_THROWS_WITH_AS(cnn::conv2d_transpose_forward(xt::zeros<float>({1, 2, 4, 4}), w, Tensor1{0, 0}, g),
                         doctest::Contains("has 2 channels but the filters (3, 2, 3, 3) expect 3"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::conv2d_transpose_forward(xt::zeros<float>({1, 3, 4, 4}), w, Tensor1{0}, g),
                         doctest::Contains("one bias per output channel, (2), got (1)"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(cnn::conv2d_transpose_forward(xt::zeros<float>({1, 3, 5, 4}), w, Tensor1{0, 0}, g),
                         doctest::Contains("but the input x (1, 3, 5, 4) has (H, W) = (5, 4)"),
                         std::invalid_argument);
    Tensor4 dw = xt::zeros<float>(w.shape());
    Tensor1 db = xt::zeros<float>({2});
    CHECK_THROWS_WITH_AS(cnn::conv2d_transpose_backward(xt::zeros<float>({1, 2, 8, 9}), xt::zeros<float>({1, 3, 4, 4}),
                                                        w, g, dw, db),
                         doctest::Contains("expected dy (1, 2, 9, 9)"), std::invalid_argument);
}
