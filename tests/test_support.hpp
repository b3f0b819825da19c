// Small helpers shared by the tests: temporary folders, random tensors, a dot product in
// double, max |a - b|, gradient checks, a small labelled data set, weights compared bit for bit.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <xtensor/xmath.hpp>
#include <xtensor/xtensor.hpp>

#include "cnn/check/gradient_check.hpp"
#include "cnn/layers/layer.hpp"
#include "cnn/model/model.hpp"
#include "cnn/tensor/random.hpp"
#include "support/app/program.hpp"

namespace cnn::testing {

/// A fresh, uniquely named directory under the system's temporary directory, removed with
/// everything in it when the test ends.
class TempDir {
public:
    TempDir() {
        std::random_device random;
        do {
            path_ = std::filesystem::temp_directory_path() /
                    ("cnn-steps-test-" + std::to_string(random()));
        } while (!std::filesystem::create_directory(path_));
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

    /// The names of the files directly in this directory (hidden ones too).
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& entry : std::filesystem::directory_iterator(path_)) {
            names.push_back(entry.path().filename().string());
        }
        return names;
    }

private:
    std::filesystem::path path_;
};

/// What a program run by run_program() printed and returned.
struct ProgramRun {
    int status = 0;         ///< Program::run()'s exit status
    std::string out, err;   ///< what it printed on standard output and standard error
    bool body_ran = false;  ///< whether its body was called
};

/// Runs a Program called "ch99_test", to which `add` adds the flags under test, on `args`
/// (without the program's name), with a body that only notes that it ran; captures what it
/// prints. A run meant to reach the body must pass `--out`.
inline ProgramRun run_program(const std::function<void(Program&)>& add,
                              std::vector<std::string> args) {
    Program program("ch99_test", "a test program", ReadsData::no);
    add(program);
    args.insert(args.begin(), "ch99_test");
    std::vector<char*> argv;
    for (std::string& a : args) {
        argv.push_back(a.data());
    }
    ProgramRun ran;
    std::ostringstream out, err;
    std::streambuf* old_out = std::cout.rdbuf(out.rdbuf());
    std::streambuf* old_err = std::cerr.rdbuf(err.rdbuf());
    ran.status = program.run(static_cast<int>(argv.size()), argv.data(),
                             [&](const ProgramOptions&) { ran.body_ran = true; });
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
    ran.out = out.str();
    ran.err = err.str();
    return ran;
}

/// Makes `path` a named pipe (FIFO). Opening one to read waits for a writer, forever if none
/// comes: the readers must refuse it rather than open it.
inline void make_fifo(const std::filesystem::path& path) {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
}

struct PngSize {
    std::uint32_t width = 0, height = 0;
};

/// Reads a PNG's size from its header: the 8-byte signature, then the IHDR chunk (length,
/// "IHDR", width, height, as big-endian 32-bit numbers). Fails the test if it is no PNG.
inline PngSize read_png_size(const std::filesystem::path& png) {
    std::ifstream in(png, std::ios::binary);
    std::array<unsigned char, 24> header{};
    in.read(reinterpret_cast<char*>(header.data()), header.size());
    REQUIRE_MESSAGE(in.gcount() == 24, (png.string() + " is shorter than a PNG header"));
    const std::array<unsigned char, 8> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    REQUIRE_MESSAGE(std::equal(signature.begin(), signature.end(), header.begin()),
                    (png.string() + " does not start with the PNG signature"));
    REQUIRE(std::string(header.begin() + 12, header.begin() + 16) == "IHDR");
    auto big_endian = [&](std::size_t at) {
        return std::uint32_t{header[at]} << 24 | std::uint32_t{header[at + 1]} << 16 |
               std::uint32_t{header[at + 2]} << 8 | std::uint32_t{header[at + 3]};
    };
    return {big_endian(16), big_endian(20)};
}

/// A tensor of the given shape with values uniform in [-1, 1).
template <std::size_t Rank>
xt::xtensor<float, Rank> random_tensor(const std::array<std::size_t, Rank>& shape, Rng& rng) {
    xt::xtensor<float, Rank> t = xt::xtensor<float, Rank>::from_shape(shape);
    for (float& v : t) {
        v = rng.uniform(-1.0f, 1.0f);
    }
    return t;
}

/// sum(a * b) in double: a scalar loss whose gradient with respect to a is b.
template <class A, class B>
double dot(const A& a, const B& b) {
    double sum = 0.0;
    auto ib = b.begin();
    for (auto ia = a.begin(); ia != a.end(); ++ia, ++ib) {
        sum += static_cast<double>(*ia) * static_cast<double>(*ib);
    }
    return sum;
}

/// max |a - b| over all elements; infinity when the shapes differ.
template <class A, class B>
double max_abs_diff(const A& a, const B& b) {
    if (!std::equal(a.shape().begin(), a.shape().end(), b.shape().begin(), b.shape().end())) {
        return INFINITY;
    }
    double worst = 0.0;
    auto ib = b.begin();
    for (auto ia = a.begin(); ia != a.end(); ++ia, ++ib) {
        worst = std::max(worst, std::abs(static_cast<double>(*ia) - static_cast<double>(*ib)));
    }
    return worst;
}

/// max |a - b| relative to the size of b's values (at least 1): for sums of many products,
/// whose rounding grows with their magnitude.
template <class A, class B>
double relative_diff(const A& a, const B& b) {
    return max_abs_diff(a, b) / std::max(1.0, static_cast<double>(xt::amax(xt::abs(b))()));
}

/// The numerical gradient check of a built layer: with the loss L = sum(layer(x) * r) for a
/// random r, every parameter's gradient and dx from backward() must match central
/// differences. `x` is the input; `options` the nudge and tolerance; `training` the mode of
/// every forward pass (a layer that computes differently in training, as BatchNormalization
/// does, is checked in each mode; a layer that draws at random in training, as Dropout does,
/// only with `training` false). Returns the number of checks that failed (each is also
/// reported through doctest).
inline std::size_t check_layer_gradients(Layer& layer, Tensor4 x, Rng& rng,
                                         const GradientCheckOptions& options = {},
                                         bool training = true) {
    const Tensor4 y = layer.forward(x, training);
    const Tensor4 r = random_tensor<4>({y.shape(0), y.shape(1), y.shape(2), y.shape(3)}, rng);
    const auto loss = [&] { return dot(layer.forward(x, training), r); };
    const std::vector<Parameter> params = layer.parameters();
    zero_gradients(params);
    layer.forward(x, training);
    const Tensor4 dx = layer.backward(r);
    std::size_t failed = 0;
    for (const Parameter& p : params) {
        const GradientCheckResult result = check_gradient(p, loss, options);
        CHECK_MESSAGE(result.passed(), result.summary());
        failed += result.passed() ? 0 : 1;
    }
    REQUIRE(dx.shape() == x.shape());
    const GradientCheckResult result_x =
        check_gradient("dx", loss, x.data(), dx.data(), x.size(), options);
    CHECK_MESSAGE(result_x.passed(), result_x.summary());
    return failed + (result_x.passed() ? 0 : 1);
}

/// cnn::check_model_gradients(), each parameter's result reported through doctest; returns the
/// number that failed. The default nudge is small: a larger one could push a ReLU input across
/// 0, or change which value wins a pooling window, where difference quotients are wrong.
inline std::size_t check_model_gradients(Model& model, const Tensor4& x, const Labels& y,
                                         const GradientCheckOptions& options = {1e-3, 1e-2}) {
    std::size_t failed = 0;
    for (const GradientCheckResult& result : cnn::check_model_gradients(model, x, y, options)) {
        CHECK_MESSAGE(result.passed(), result.summary());
        failed += result.passed() ? 0 : 1;
    }
    return failed;
}

/// Images and labels for a test that trains: random normal pixels of `shape` (N, C, H, W), and
/// labels 0, 1, ..., classes - 1, 0, 1, ... in turn, so that every class has examples.
struct LabelledImages {
    Tensor4 x;
    Labels y;
};

inline LabelledImages labelled_noise(const std::array<std::size_t, 4>& shape, std::size_t classes,
                                     std::uint64_t seed) {
    REQUIRE_MESSAGE(classes > 0, "labelled_noise: expected at least one class");
    Rng rng(seed);
    LabelledImages d{random_tensor<4>(shape, rng), Labels(shape[0])};
    for (std::size_t i = 0; i < d.y.size(); ++i) {
        d.y[i] = static_cast<Labels::value_type>(i % classes);
    }
    return d;
}

/// Whether two models hold the same weights, their layers' state (Model::weights()) too, bit
/// for bit: -0 and 0 differ, a NaN equals the same NaN.
inline bool same_weights(Model& a, Model& b) {
    const std::vector<Parameter> pa = a.weights(), pb = b.weights();
    if (pa.size() != pb.size()) {
        return false;
    }
    for (std::size_t i = 0; i < pa.size(); ++i) {
        if (pa[i].size != pb[i].size ||
            std::memcmp(pa[i].value, pb[i].value, pa[i].size * sizeof(float)) != 0) {
            return false;
        }
    }
    return true;
}

/// Whether two tensors hold the same values bit for bit, each all the values its shape says: a
/// tensor moved from keeps its shape but not its values (its size() is then 0), and xtensor's
/// == can still call it equal.
inline bool same_values(const Tensor4& a, const Tensor4& b) {
    const std::size_t n = a.shape(0) * a.shape(1) * a.shape(2) * a.shape(3);
    return a.shape() == b.shape() && a.storage().size() == n && b.storage().size() == n &&
           std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0;
}

/// The whole of a file, byte for byte ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Writes `text` to `file` byte for byte, replacing it; a failed write fails the test.
/// \return file, to pass on
inline std::filesystem::path write_text(const std::filesystem::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
    REQUIRE(out.good());
    return file;
}

/// One 4x4 image holding 1, 2, ..., 16 row by row, as (1, 1, 4, 4).
inline Tensor4 numbers_4x4() {
    return Tensor4{{{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}}}};
}

/// One matrix as a batch of one single-channel image, (1, 1, H, W).
inline Tensor4 image_of(const xt::xtensor<float, 2>& m) {
    Tensor4 x = Tensor4::from_shape({1, 1, m.shape(0), m.shape(1)});
    std::copy(m.begin(), m.end(), x.begin());
    return x;
}

/// Image n of a batch, as (1, C, H, W).
inline Tensor4 image(const Tensor4& batch, std::size_t n) {
    Tensor4 one = Tensor4::from_shape({1, batch.shape(1), batch.shape(2), batch.shape(3)});
    std::copy_n(batch.data() + n * one.size(), one.size(), one.data());
    return one;
}

}  // namespace cnn::testing
