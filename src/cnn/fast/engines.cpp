#include "cnn/fast/engines.hpp"

#include <memory>
#include <stdexcept>

#include "cnn/fast/pooling_fast.hpp"

namespace cnn {

std::string conv_algorithm_name(ConvAlgorithm algorithm) {
    switch (algorithm) {
        case ConvAlgorithm::automatic:
            return "automatic";
        case ConvAlgorithm::gemm:
            return "gemm";
        case ConvAlgorithm::winograd:
            return "F(2x2)";
        case ConvAlgorithm::winograd_4x4:
            return "F(4x4)";
    }
    return "unknown";
}

WinogradTile winograd_tile(ConvAlgorithm algorithm) {
    return algorithm == ConvAlgorithm::winograd_4x4 ? WinogradTile::f4x4 : WinogradTile::f2x2;
}

//! [engine_choice]
bool winograd_preferred(const Tensor4& w, const Conv2DGeometry& g) {
    return winograd_applies(w, g) && w.shape(0) >= winograd_lanes && w.shape(1) >= winograd_lanes;
}

ConvAlgorithm FastConv2DEngine::algorithm_for(const std::array<std::size_t, 4>& x_shape,
                                              const Tensor4& w, const Conv2DGeometry& g) const {
    if (algorithm_ != ConvAlgorithm::automatic) {
        return algorithm_;  // conv2d_winograd_*() throws if Winograd cannot compute it
    }
    if (!winograd_preferred(w, g)) {
        return ConvAlgorithm::gemm;
    }
    const std::size_t oh = conv_output_size({x_shape[2], 3, 1, g.pad_rows}, g.policy);
    const std::size_t ow = conv_output_size({x_shape[3], 3, 1, g.pad_cols}, g.policy);
    return winograd_tile_for(oh, ow) == WinogradTile::f4x4 ? ConvAlgorithm::winograd_4x4
                                                           : ConvAlgorithm::winograd;
}
//! [engine_choice]

FastConv2DEngine::FastConv2DEngine(const FastConvOptions& options, ConvAlgorithm algorithm,
                                   std::shared_ptr<ConvScratch> scratch)
    : options_(options), algorithm_(algorithm), scratch_(std::move(scratch)) {
    if (!scratch_) {
        throw std::invalid_argument("FastConv2DEngine: expected a ConvScratch to use, got none");
    }
}

//! [engine_forward]
Tensor4 FastConv2DEngine::forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                  const Conv2DGeometry& g, bool relu) {
    return forward_copying(x, w, b, g, relu, nullptr);
}

Tensor4 FastConv2DEngine::forward_keeping(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                          const Conv2DGeometry& g, bool relu, Tensor4& kept) {
    return forward_copying(x, w, b, g, relu, &kept);
}

Tensor4 FastConv2DEngine::forward_copying(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                          const Conv2DGeometry& g, bool relu, Tensor4* copy) {
    const ConvAlgorithm algorithm = algorithm_for(x.shape(), w, g);
    const std::lock_guard<std::mutex> turn(scratch_->mutex_);  // the buffers are ours till return
    if (algorithm != ConvAlgorithm::gemm) {
        return conv2d_winograd_forward(x, w, b, g, winograd_tile(algorithm), with_epilogue(relu),
                                       scratch_->winograd_, copy);
    }
    return conv2d_fast_forward(x, w, b, g, with_epilogue(relu), scratch_->gemm_, copy);
}
//! [engine_forward]

Tensor4 FastConv2DEngine::backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                   const Tensor4& w, const Conv2DGeometry& g, bool relu,
                                   Tensor4& dw, Tensor1& db) {
    const ConvAlgorithm algorithm = algorithm_for(x.shape(), w, g);
    const std::lock_guard<std::mutex> turn(scratch_->mutex_);
    if (algorithm != ConvAlgorithm::gemm) {
        return conv2d_winograd_backward(dy, x, y, w, g, winograd_tile(algorithm),
                                        with_epilogue(relu), scratch_->winograd_, dw, db);
    }
    return conv2d_fast_backward(dy, x, y, w, g, with_epilogue(relu), scratch_->gemm_, dw, db);
}

Tensor4 FastConv2DEngine::backward_input(const Tensor4& dy, const Tensor4& w,
                                         const std::array<std::size_t, 4>& x_shape,
                                         const Conv2DGeometry& g) {
    if (algorithm_for(x_shape, w, g) != ConvAlgorithm::gemm) {
        return Conv2DEngine::backward_input(dy, w, x_shape, g);  // backward() takes the turn
    }
    const std::lock_guard<std::mutex> turn(scratch_->mutex_);
    return conv2d_fast_backward_input(dy, w, x_shape, g, with_epilogue(false), scratch_->gemm_);
}

void FastConv2DEngine::backward_weights(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                        const Tensor4& w, const Conv2DGeometry& g, bool relu,
                                        Tensor4& dw, Tensor1& db) {
    if (algorithm_for(x.shape(), w, g) != ConvAlgorithm::gemm) {
        Conv2DEngine::backward_weights(dy, x, y, w, g, relu, dw, db);  // backward() takes the turn
        return;
    }
    const std::lock_guard<std::mutex> turn(scratch_->mutex_);
    conv2d_fast_backward_weights(dy, x, y, w, g, with_epilogue(relu), scratch_->gemm_, dw, db);
}

std::size_t ConvScratch::bytes() const {
    const std::lock_guard<std::mutex> turn(mutex_);
    std::size_t floats = winograd_.filters.capacity();
    for (const GemmWorkspace::PerThread& t : gemm_.per_thread) {
        floats += t.columns.capacity() + t.outputs.capacity();
    }
    for (const WinogradWorkspace::PerThread& t : winograd_.per_thread) {
        floats += t.input_tiles.capacity() + t.output_tiles.capacity() + t.frame.capacity() +
                  t.stage.capacity() + t.dy_frames.capacity();
    }
    return floats * sizeof(float) + gemm_.dw.bytes() + gemm_.db.bytes() + winograd_.dw.bytes() +
           winograd_.db.bytes();
}

FastConvOptions FastConv2DEngine::with_epilogue(bool relu) const {
    FastConvOptions o = options_;
    o.epilogue = relu ? Epilogue::bias_relu : Epilogue::bias;
    return o;
}

namespace {

class FastMaxPooling2DEngine : public MaxPooling2DEngine {
public:
    explicit FastMaxPooling2DEngine(std::size_t threads) : threads_(threads) {}
    void forward(const Tensor4& x, const Pool2DWindow& window, MaxPoolResult& result) override {
        max_pool2d_fast_forward(x, window, result, threads_);
    }
    Tensor4 backward(const Tensor4& dy, const std::vector<PoolIndex>& winner,
                     const std::array<std::size_t, 4>& x_shape) override {
        return max_pool2d_fast_backward(dy, winner, x_shape, threads_);
    }

private:
    std::size_t threads_;
};

}  // namespace

Conv2DEngineFactory fast_conv2d_engine(const FastConvOptions& options, ConvAlgorithm algorithm) {
    // The engines alive at one time share one scratch, which goes when the last of them does:
    // the factory only remembers it (weak_ptr), so it does not outlive the models.
    struct Shared {
        std::mutex mutex;  // a factory may make engines on several threads
        std::weak_ptr<ConvScratch> scratch;
    };
    auto shared = std::make_shared<Shared>();
    return [options, algorithm, shared] {
        std::shared_ptr<ConvScratch> scratch;
        {
            const std::lock_guard<std::mutex> lock(shared->mutex);
            scratch = shared->scratch.lock();
            if (!scratch) {
                scratch = std::make_shared<ConvScratch>();
                shared->scratch = scratch;
            }
        }
        return std::make_unique<FastConv2DEngine>(options, algorithm, std::move(scratch));
    };
}

MaxPooling2DEngineFactory fast_max_pooling2d_engine(std::size_t threads) {
    return [threads] { return std::make_unique<FastMaxPooling2DEngine>(threads); };
}

void use_fast_engines(const FastConvOptions& options, ConvAlgorithm algorithm) {
    set_default_conv2d_engine(fast_conv2d_engine(options, algorithm));
    set_default_max_pooling2d_engine(fast_max_pooling2d_engine(options.threads));
}

}  // namespace cnn
