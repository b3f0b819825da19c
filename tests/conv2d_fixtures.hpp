// The PyTorch reference values of tests/fixtures/conv2d_torch.txt (see the script beside it),
// read into tensors for the convolution tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/check/gradient_check.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"
#include "test_support.hpp"

namespace cnn::testing {

struct Conv2DCase {
    std::string name;
    Conv2DGeometry geometry;
    Tensor4 x, w, y, dy, dx, dw;
    Tensor1 b, db;
};

inline std::vector<Conv2DCase> read_conv2d_fixtures() {
    std::ifstream in(std::string(CNN_SOURCE_DIR) + "/tests/fixtures/conv2d_torch.txt");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/fixtures/conv2d_torch.txt");
    std::vector<Conv2DCase> cases;
    std::size_t n = 0, c = 0, h = 0, w = 0, fn = 0, fh = 0, fw = 0;
    std::string line;
    const auto read_values = [](std::istringstream& fields, std::size_t count) {
        std::vector<float> v;
        float value = 0;
        while (fields >> value) {
            v.push_back(value);
        }
        REQUIRE(v.size() == count);
        return v;
    };
    const auto fill4 = [&](std::istringstream& fields, std::array<std::size_t, 4> shape) {
        Tensor4 t = Tensor4::from_shape(shape);
        const std::vector<float> v = read_values(fields, t.size());
        std::copy(v.begin(), v.end(), t.begin());
        return t;
    };
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream fields(line);
        std::string label;
        fields >> label;
        if (label == "case") {
            Conv2DCase k;
            Conv2DGeometry& g = k.geometry;
            fields >> k.name >> n >> c >> h >> w >> fn >> fh >> fw >> g.stride_rows >>
                g.stride_cols >> g.pad_rows.before >> g.pad_rows.after >> g.pad_cols.before >>
                g.pad_cols.after;
            g.policy = SizePolicy::floor;  // as PyTorch
            cases.push_back(k);
            continue;
        }
        REQUIRE(!cases.empty());
        Conv2DCase& k = cases.back();
        const std::size_t oh = conv_output_size({h, fh, k.geometry.stride_rows, k.geometry.pad_rows},
                                                SizePolicy::floor);
        const std::size_t ow = conv_output_size({w, fw, k.geometry.stride_cols, k.geometry.pad_cols},
                                                SizePolicy::floor);
        if (label == "x") k.x = fill4(fields, {n, c, h, w});
        if (label == "dx") k.dx = fill4(fields, {n, c, h, w});
        if (label == "w") k.w = fill4(fields, {fn, c, fh, fw});
        if (label == "dw") k.dw = fill4(fields, {fn, c, fh, fw});
        if (label == "y") k.y = fill4(fields, {n, fn, oh, ow});
        if (label == "dy") k.dy = fill4(fields, {n, fn, oh, ow});
        if (label == "b" || label == "db") {
            Tensor1 t = Tensor1::from_shape({fn});
            const std::vector<float> v = read_values(fields, fn);
            std::copy(v.begin(), v.end(), t.begin());
            (label == "b" ? k.b : k.db) = t;
        }
    }
    REQUIRE(cases.size() >= 6);
    return cases;
}

/// Checks one convolution implementation on every PyTorch case: forward(x, w, b, geometry)
/// against y, and backward(dy, x, w, geometry, dw, db) (accumulating into zeroed dw, db,
/// returning dx) against dx, dw, db. With `numerical`, also the numerical gradient check of
/// loss = sum(dy * forward(x, w, b)) around the fixture's own values, probing as `probe` says.
template <class Forward, class Backward>
void check_against_conv2d_fixtures(const Forward& forward, const Backward& backward,
                                   bool numerical, const GradientCheckOptions& probe = {}) {
    for (const Conv2DCase& c : read_conv2d_fixtures()) {
        CAPTURE(c.name);
        CHECK(max_abs_diff(forward(c.x, c.w, c.b, c.geometry), c.y) < 1e-4);
        Tensor4 dw = xt::zeros<float>(c.w.shape());
        Tensor1 db = xt::zeros<float>(c.b.shape());
        const Tensor4 dx = backward(c.dy, c.x, c.w, c.geometry, dw, db);
        CHECK(max_abs_diff(dx, c.dx) < 1e-4);
        CHECK(max_abs_diff(dw, c.dw) < 1e-4);
        CHECK(max_abs_diff(db, c.db) < 1e-4);
        if (!numerical) {
            continue;
        }
        Tensor4 x = c.x, w = c.w;
        Tensor1 b = c.b;
        const auto loss = [&] { return dot(forward(x, w, b, c.geometry), c.dy); };
        for (const auto& result :
             {check_gradient("dx", loss, x.data(), dx.data(), x.size(), probe),
              check_gradient("dw", loss, w.data(), dw.data(), w.size(), probe),
              check_gradient("db", loss, b.data(), db.data(), b.size(), probe)}) {
            CHECK_MESSAGE(result.passed(), result.summary());
        }
    }
}

}  // namespace cnn::testing
