#include "cnn/fast/engines.hpp"

#include <memory>

#include "cnn/fast/pooling_fast.hpp"

namespace cnn {

namespace {

//! [fast_engine]
class FastConv2DEngine : public Conv2DEngine {
public:
    explicit FastConv2DEngine(const FastConvOptions& options) : options_(options) {}
    std::string name() const override { return "fast"; }
    bool fuses_relu() const override { return true; }
    Tensor4 forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                    const Conv2DGeometry& geometry, bool relu) override {
        return conv2d_fast_forward(x, w, b, geometry, with_epilogue(relu), workspace_);
    }
    Tensor4 backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y, const Tensor4& w,
                     const Conv2DGeometry& geometry, bool relu, Tensor4& dw, Tensor1& db) override {
        return conv2d_fast_backward(dy, x, y, w, geometry, with_epilogue(relu), workspace_, dw, db);
    }

private:
    FastConvOptions with_epilogue(bool relu) const {
        FastConvOptions o = options_;
        o.epilogue = relu ? Epilogue::bias_relu : Epilogue::bias;
        return o;
    }

    FastConvOptions options_;
    Conv2DWorkspace workspace_;  // kept from call to call, so a training loop allocates it once
};
//! [fast_engine]

class FastMaxPooling2DEngine : public MaxPooling2DEngine {
public:
    explicit FastMaxPooling2DEngine(std::size_t threads) : threads_(threads) {}
    void forward(const Tensor4& x, const Pool2DWindow& window, MaxPoolResult& result) override {
        max_pool2d_fast_forward(x, window, result, threads_);
    }
    Tensor4 backward(const Tensor4& dy, const std::vector<std::size_t>& winner,
                     const std::array<std::size_t, 4>& x_shape) override {
        return max_pool2d_fast_backward(dy, winner, x_shape, threads_);
    }

private:
    std::size_t threads_;
};

}  // namespace

Conv2DEngineFactory fast_conv2d_engine(const FastConvOptions& options) {
    return [options] { return std::make_unique<FastConv2DEngine>(options); };
}

MaxPooling2DEngineFactory fast_max_pooling2d_engine(std::size_t threads) {
    return [threads] { return std::make_unique<FastMaxPooling2DEngine>(threads); };
}

void use_fast_engines(const FastConvOptions& options) {
    set_default_conv2d_engine(fast_conv2d_engine(options));
    set_default_max_pooling2d_engine(fast_max_pooling2d_engine(options.threads));
}

}  // namespace cnn
