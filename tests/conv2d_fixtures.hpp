// The PyTorch reference values of tests/fixtures/conv2d_torch.txt (see the script beside it),
// read into tensors for the convolution tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/conv/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn::testing {

struct Conv2dCase {
    std::string name;
    Conv2dGeometry geometry;
    Tensor4 x, w, y, dy, dx, dw;
    Tensor1 b, db;
};

inline std::vector<Conv2dCase> read_conv2d_fixtures() {
    std::ifstream in(std::string(CNN_SOURCE_DIR) + "/tests/fixtures/conv2d_torch.txt");
    REQUIRE_MESSAGE(in.good(), "cannot open tests/fixtures/conv2d_torch.txt");
    std::vector<Conv2dCase> cases;
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
            Conv2dCase k;
            Conv2dGeometry& g = k.geometry;
            fields >> k.name >> n >> c >> h >> w >> fn >> fh >> fw >> g.stride_rows >>
                g.stride_cols >> g.pad_rows.before >> g.pad_rows.after >> g.pad_cols.before >>
                g.pad_cols.after;
            g.policy = SizePolicy::floor;  // as PyTorch
            cases.push_back(k);
            continue;
        }
        REQUIRE(!cases.empty());
        Conv2dCase& k = cases.back();
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

}  // namespace cnn::testing
