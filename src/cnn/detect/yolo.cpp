#include "cnn/detect/yolo.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "cnn/layers/batch_normalization.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/pooling2d.hpp"
#include "cnn/layers/relu.hpp"

namespace cnn {

namespace {

float sigmoid(float t) { return 1.0f / (1.0f + std::exp(-t)); }

void expect_outputs(const Tensor4& outputs, const YoloOptions& o, const char* where) {
    if (o.grid == 0 || o.boxes == 0 || o.classes == 0) {
        throw std::invalid_argument(std::string(where) +
                                    ": the grid, boxes per cell and classes must each be at least 1");
    }
    const std::size_t channels = yolo_channels(o);
    if (outputs.shape(1) != channels || outputs.shape(2) != o.grid || outputs.shape(3) != o.grid) {
        throw std::invalid_argument(
            std::string(where) + ": expected outputs (N, " + std::to_string(channels) + ", " +
            std::to_string(o.grid) + ", " + std::to_string(o.grid) + ") for a " +
            std::to_string(o.grid) + "x" + std::to_string(o.grid) + " grid of " +
            std::to_string(o.boxes) + " boxes and " + std::to_string(o.classes) +
            " classes, got " + shape_to_string(outputs.shape()));
    }
}

// The softmax of cell (i, j)'s class logits.
std::vector<float> class_probabilities(const Tensor4& outputs, std::size_t n, std::size_t i,
                                       std::size_t j, const YoloOptions& o) {
    const std::size_t first = 5 * o.boxes;
    float largest = outputs(n, first, i, j);
    for (std::size_t c = 1; c < o.classes; ++c) {
        largest = std::max(largest, outputs(n, first + c, i, j));
    }
    std::vector<float> p(o.classes);
    float sum = 0.0f;
    for (std::size_t c = 0; c < o.classes; ++c) {
        p[c] = std::exp(outputs(n, first + c, i, j) - largest);
        sum += p[c];
    }
    for (float& value : p) {
        value /= sum;
    }
    return p;
}

}  // namespace

std::size_t yolo_channels(const YoloOptions& options) { return 5 * options.boxes + options.classes; }

Box predicted_box(const Tensor4& outputs, std::size_t n, std::size_t i, std::size_t j,
                  std::size_t b, const YoloOptions& o) {
    const float cell_w = static_cast<float>(o.image_width) / static_cast<float>(o.grid);
    const float cell_h = static_cast<float>(o.image_height) / static_cast<float>(o.grid);
    const float x = (static_cast<float>(j) + sigmoid(outputs(n, 5 * b, i, j))) * cell_w;
    const float y = (static_cast<float>(i) + sigmoid(outputs(n, 5 * b + 1, i, j))) * cell_h;
    const float sw = sigmoid(outputs(n, 5 * b + 2, i, j)), sh = sigmoid(outputs(n, 5 * b + 3, i, j));
    const float w = sw * sw * static_cast<float>(o.image_width);
    const float h = sh * sh * static_cast<float>(o.image_height);
    return from_centre_size({x, y, w, h});
}

YoloTargets assign_targets(const Tensor4& outputs,
                           const std::vector<std::vector<LabelledBox>>& truths,
                           const YoloOptions& o) {
    expect_outputs(outputs, o, "assign_targets");
    if (truths.size() != outputs.shape(0)) {
        throw std::invalid_argument("assign_targets: outputs for " + std::to_string(outputs.shape(0)) +
                                    " images but truths for " + std::to_string(truths.size()));
    }
    YoloTargets result;
    for (std::size_t n = 0; n < truths.size(); ++n) {
        // The truth each cell answers for (the largest of those centred in it), or none.
        std::vector<const LabelledBox*> owner(o.grid * o.grid, nullptr);
        for (const LabelledBox& truth : truths[n]) {
            if (truth.label >= o.classes) {
                throw std::invalid_argument("assign_targets: image " + std::to_string(n) +
                                            " has a box of class " + std::to_string(truth.label) +
                                            ", expected one below " + std::to_string(o.classes));
            }
            const GridBox cell = to_grid(truth.box, o.image_height, o.image_width, o.grid);
            const LabelledBox*& slot = owner[cell.row * o.grid + cell.column];
            if (slot == nullptr || box_area(truth.box) > box_area(slot->box)) {
                result.unassigned += slot != nullptr ? 1 : 0;
                slot = &truth;
            } else {
                ++result.unassigned;
            }
        }
        for (std::size_t k = 0; k < owner.size(); ++k) {
            if (owner[k] == nullptr) {
                continue;
            }
            //! [responsible_predictor]
            const GridBox cell = to_grid(owner[k]->box, o.image_height, o.image_width, o.grid);
            // The predictor whose box already fits best learns this object.
            std::size_t best = 0;
            float best_iou = -1.0f;
            for (std::size_t b = 0; b < o.boxes; ++b) {
                const float iou = intersection_over_union(
                    predicted_box(outputs, n, cell.row, cell.column, b, o), owner[k]->box);
                if (iou > best_iou) {
                    best = b;
                    best_iou = iou;
                }
            }
            result.targets.push_back({n, cell.row, cell.column, best, owner[k]->label, cell.x,
                                      cell.y, std::sqrt(cell.w), std::sqrt(cell.h),
                                      o.rescore ? best_iou : 1.0f});
            //! [responsible_predictor]
        }
    }
    return result;
}

YoloLoss yolo_loss(const Tensor4& outputs, const YoloTargets& targets, const YoloOptions& o) {
    expect_outputs(outputs, o, "yolo_loss");
    const std::size_t batch = outputs.shape(0);
    YoloLoss loss;
    loss.gradient = xt::zeros<float>(outputs.shape());
    Tensor4& d = loss.gradient;
    const float per_image = 1.0f / static_cast<float>(std::max<std::size_t>(batch, 1));
    //! [squared_sigmoid]
    // A squared error (value - target)^2 of a sigmoid output: adds weight * error^2 to `term`
    // and its derivative through the sigmoid to the gradient at t.
    const auto squared = [&](double& term, std::size_t n, std::size_t channel, std::size_t i,
                             std::size_t j, float target, float weight) {
        const float s = sigmoid(outputs(n, channel, i, j));
        term += weight * (s - target) * (s - target) * per_image;
        d(n, channel, i, j) += weight * 2.0f * (s - target) * s * (1.0f - s) * per_image;
    };
    //! [squared_sigmoid]

    // Which predictors are responsible: the others are pushed towards confidence 0.
    std::vector<char> responsible(batch * o.grid * o.grid * o.boxes, 0);
    const auto index = [&](std::size_t n, std::size_t i, std::size_t j, std::size_t b) {
        return ((n * o.grid + i) * o.grid + j) * o.boxes + b;
    };
    for (const YoloTarget& t : targets.targets) {
        if (t.image >= batch || t.row >= o.grid || t.column >= o.grid || t.predictor >= o.boxes ||
            t.label >= o.classes) {
            throw std::invalid_argument("yolo_loss: a target lies outside the outputs " +
                                        shape_to_string(outputs.shape()));
        }
        responsible[index(t.image, t.row, t.column, t.predictor)] = 1;
        //! [yolo_loss_terms]
        const std::size_t n = t.image, i = t.row, j = t.column, c = 5 * t.predictor;
        squared(loss.coordinates, n, c, i, j, t.x, o.coordinate_weight);
        squared(loss.coordinates, n, c + 1, i, j, t.y, o.coordinate_weight);
        squared(loss.coordinates, n, c + 2, i, j, t.sqrt_w, o.coordinate_weight);
        squared(loss.coordinates, n, c + 3, i, j, t.sqrt_h, o.coordinate_weight);
        squared(loss.object, n, c + 4, i, j, t.confidence, 1.0f);
        // Classes: squared errors of the softmax's probabilities, back through the softmax:
        // dL/dz_k = p_k (g_k - sum_c p_c g_c) with g_c = dL/dp_c.
        const std::vector<float> p = class_probabilities(outputs, n, i, j, o);
        std::vector<float> g(o.classes);
        float pg = 0.0f;
        for (std::size_t k = 0; k < o.classes; ++k) {
            const float error = p[k] - (k == t.label ? 1.0f : 0.0f);
            loss.classes += error * error * per_image;
            g[k] = 2.0f * error * per_image;
            pg += p[k] * g[k];
        }
        for (std::size_t k = 0; k < o.classes; ++k) {
            d(n, 5 * o.boxes + k, i, j) += p[k] * (g[k] - pg);
        }
        //! [yolo_loss_terms]
    }
    for (std::size_t n = 0; n < batch; ++n) {
        for (std::size_t i = 0; i < o.grid; ++i) {
            for (std::size_t j = 0; j < o.grid; ++j) {
                for (std::size_t b = 0; b < o.boxes; ++b) {
                    if (!responsible[index(n, i, j, b)]) {
                        squared(loss.no_object, n, 5 * b + 4, i, j, 0.0f, o.no_object_weight);
                    }
                }
            }
        }
    }
    loss.total = loss.coordinates + loss.object + loss.no_object + loss.classes;
    return loss;
}

std::vector<Detection> yolo_detections(const Tensor4& outputs, std::size_t n,
                                       const YoloOptions& o, float min_score) {
    expect_outputs(outputs, o, "yolo_detections");
    if (n >= outputs.shape(0)) {
        throw std::invalid_argument("yolo_detections: image " + std::to_string(n) +
                                    " requested, the outputs hold " + std::to_string(outputs.shape(0)));
    }
    const Box image{0.0f, 0.0f, static_cast<float>(o.image_width), static_cast<float>(o.image_height)};
    std::vector<Detection> result;
    for (std::size_t i = 0; i < o.grid; ++i) {
        for (std::size_t j = 0; j < o.grid; ++j) {
            const std::vector<float> p = class_probabilities(outputs, n, i, j, o);
            const auto best = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
            for (std::size_t b = 0; b < o.boxes; ++b) {
                const float score = sigmoid(outputs(n, 5 * b + 4, i, j)) * p[best];
                if (score < min_score) {
                    continue;
                }
                Box box = predicted_box(outputs, n, i, j, b, o);
                box = {std::max(box.x_min, image.x_min), std::max(box.y_min, image.y_min),
                       std::min(box.x_max, image.x_max), std::min(box.y_max, image.y_max)};
                result.push_back({box, best, score});
            }
        }
    }
    return result;
}

Sequential yolo_model(const YoloOptions& o, std::uint64_t seed) {
    if (o.grid == 0 || o.image_height != 16 * o.grid || o.image_width != 16 * o.grid) {
        throw std::invalid_argument("yolo_model: the backbone halves the image 4 times, so the image "
                                    "must be 16 times the grid: got " +
                                    std::to_string(o.image_height) + "x" + std::to_string(o.image_width) +
                                    " for a " + std::to_string(o.grid) + "x" + std::to_string(o.grid) +
                                    " grid");
    }
    //! [yolo_model_layers]
    Sequential model(seed);
    bool first = true;
    for (const std::size_t filters : {16, 32, 64, 128}) {
        Conv2D conv = Conv2D(filters, 3).padding("same");
        model.add(first ? conv.input_shape({1, o.image_height, o.image_width}) : conv);
        model.add(BatchNormalization());
        model.add(ReLU());
        model.add(MaxPooling2D(2));
        first = false;
    }
    model.add(Conv2D(256, 3).padding("same"));
    model.add(BatchNormalization());
    model.add(ReLU());
    model.add(Conv2D(yolo_channels(o), 1));  // linear: the loss applies the sigmoids and softmax
    //! [yolo_model_layers]
    return model;
}

}  // namespace cnn
