#include "cnn/ops/receptive_field.hpp"

#include <stdexcept>

namespace cnn {

//! [receptive_fields]
std::vector<ReceptiveField> receptive_fields(const std::vector<WindowLayer>& stack) {
    std::vector<ReceptiveField> fields = {{"input", 1, 1, 0.0}};
    for (const WindowLayer& layer : stack) {
        if (layer.kernel == 0 || layer.stride == 0) {
            throw std::invalid_argument("receptive_fields: layer " + layer.name +
                                        " needs kernel >= 1 and stride >= 1");
        }
        const ReceptiveField& in = fields.back();
        ReceptiveField out;
        out.name = layer.name;
        out.size = in.size + (layer.kernel - 1) * in.jump;
        out.jump = in.jump * layer.stride;
        out.start = in.start + ((static_cast<double>(layer.kernel) - 1.0) / 2.0 -
                                static_cast<double>(layer.padding)) *
                                   static_cast<double>(in.jump);
        fields.push_back(out);
    }
    return fields;
}
//! [receptive_fields]

}  // namespace cnn
