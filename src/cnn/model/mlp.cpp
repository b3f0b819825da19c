#include "cnn/model/mlp.hpp"

#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"

namespace cnn {

//! [mlp]
Sequential mlp(const MlpOptions& options, std::uint64_t seed) {
    Sequential model(seed, "mlp");
    model.add(Flatten().input_shape(options.input_shape));
    for (std::size_t units : options.hidden) {
        model.add(Dense(units).activation("relu"));
    }
    model.add(Dense(options.classes).activation("softmax"));
    return model;
}
//! [mlp]

}  // namespace cnn
