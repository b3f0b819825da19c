// Chapter 12's ONNX export, checked by ONNX itself: ONNX's checker and its shape inference are
// an independent implementation of every operator's rules (written by the ONNX project from
// its operator specification), so a graph they accept, with the shape they infer for every
// layer's output equal to the shape this library computes, is a graph whose wiring, attributes
// and weight shapes are right. Whether its numbers are right is checked by running the
// exported models in ONNX Runtime and PyTorch (chapter 12's program, CTest's
// ch12_beyond_the_book_quick).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cnn/interop/layer_tour.hpp"
#include "cnn/interop/onnx_export.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/conv2d_transpose.hpp"
#include "cnn/layers/dense.hpp"
#include "cnn/layers/flatten.hpp"
#include "cnn/model/classic.hpp"
#include "cnn/model/mlp.hpp"
#include "cnn/model/resnet.hpp"
#include "cnn/model/sequential.hpp"
#include "cnn/model/zoo.hpp"
#include "cnn/segment/models.hpp"
#include "support/io/onnx_file.hpp"
#include "test_support.hpp"

namespace {

using Dims = std::vector<std::int64_t>;

// (N, shape...) as ONNX writes it, with -1 for the open batch size N.
Dims batch_of(const cnn::Shape& shape) {
    Dims dims = {-1};
    for (const std::size_t d : shape) {
        dims.push_back(static_cast<std::int64_t>(d));
    }
    return dims;
}

// Every layer's output in the checked graph has the shape the library gives it: the value
// named after the layer, which is the layer's output (after its activation) whenever the
// layer wrote a node, and the input it passed on otherwise.
void expect_shapes_agree(cnn::Model& model, const onnx::ModelProto& proto) {
    for (const cnn::LayerCall& call : model.calls()) {
        const std::string& type = call.layer->type();
        if (type == "Dropout" || type == "RandomFlip" || type == "RandomTranslation") {
            continue;  // no node: nothing of that name in the graph
        }
        INFO(call.layer->name(), " (", type, ")");
        CHECK(cnn::onnx_value_shape(proto, call.layer->name()) == batch_of(call.output_shape));
    }
}

// A layer that ONNX has no operator for in the exporter: Softplus, log(1 + e^x).
class Softplus : public cnn::KerasLayer<Softplus> {
public:
    std::string type() const override { return "Softplus"; }
    std::string default_name() const override { return "softplus"; }
    cnn::Shape build(const cnn::Shape& input_shape, cnn::Rng&) override { return input_shape; }

protected:
    cnn::Tensor4 forward_operation(cnn::Tensor4 x, bool) override {
        for (float& v : x) {
            v = std::log1p(std::exp(v));
        }
        return x;
    }
    cnn::Tensor4 backward_operation(cnn::Tensor4 dy) override { return dy; }
};

}  // namespace

TEST_CASE("to_onnx: the layer tour passes ONNX's checker and every layer's shape is ONNX's") {
    cnn::Graph model = cnn::layer_tour_model(7);
    onnx::ModelProto proto = cnn::to_onnx(model);
    REQUIRE_NOTHROW(cnn::check_onnx(proto));
    expect_shapes_agree(model, proto);
    CHECK(cnn::onnx_value_shape(proto, "input") == Dims{-1, 2, 12, 10});
    CHECK(cnn::onnx_value_shape(proto, "logits") == Dims{-1, 5});
    CHECK(cnn::onnx_value_shape(proto, "probabilities") == Dims{-1, 5});
    // Every trainable value and every moving statistic is in the graph, under its own name.
    std::vector<std::string> initializers;
    for (const onnx::TensorProto& t : proto.graph().initializer()) {
        initializers.push_back(t.name());
    }
    for (const cnn::Parameter& p : model.weights()) {
        INFO(p.name);
        CHECK(std::find(initializers.begin(), initializers.end(), p.name) != initializers.end());
    }
}

TEST_CASE("to_onnx: the chapters' models (MLP, seed, VGG, ResNet, hourglass, U-Net) pass the checker with the library's shapes") {
    cnn::Sequential seed = cnn::seed_model(1);
    onnx::ModelProto seed_proto = cnn::to_onnx(seed);
    REQUIRE_NOTHROW(cnn::check_onnx(seed_proto));
    expect_shapes_agree(seed, seed_proto);

    cnn::Graph resnet = cnn::resnet_model(1);
    onnx::ModelProto resnet_proto = cnn::to_onnx(resnet);
    REQUIRE_NOTHROW(cnn::check_onnx(resnet_proto));
    expect_shapes_agree(resnet, resnet_proto);

    cnn::Sequential mlp = cnn::mlp({{1, 28, 28}, {64, 32}, 10}, 1);  // chapter 01
    onnx::ModelProto mlp_proto = cnn::to_onnx(mlp);
    REQUIRE_NOTHROW(cnn::check_onnx(mlp_proto));
    expect_shapes_agree(mlp, mlp_proto);

    cnn::VggOptions small_vgg;  // chapter 08's VGG, two blocks, with dropout
    small_vgg.block_filters = {8, 16};
    small_vgg.dense_units = {32};
    small_vgg.dropout = 0.5f;
    cnn::Sequential vgg = cnn::vgg(small_vgg, 1);
    onnx::ModelProto vgg_proto = cnn::to_onnx(vgg);
    REQUIRE_NOTHROW(cnn::check_onnx(vgg_proto));
    expect_shapes_agree(vgg, vgg_proto);

    cnn::SegmentationModelOptions hourglass;  // chapter 11's, without skips, upsampling by copies
    hourglass.skips = false;
    hourglass.upsampling = cnn::Upsampling::nearest;
    cnn::Graph hourglass_model = cnn::segmentation_model(hourglass, 1);
    onnx::ModelProto hourglass_proto = cnn::to_onnx(hourglass_model);
    REQUIRE_NOTHROW(cnn::check_onnx(hourglass_proto));
    expect_shapes_agree(hourglass_model, hourglass_proto);

    cnn::Graph unet = cnn::segmentation_model({}, 1);
    onnx::ModelProto unet_proto = cnn::to_onnx(unet);
    REQUIRE_NOTHROW(cnn::check_onnx(unet_proto));
    expect_shapes_agree(unet, unet_proto);
    // Its last layer has no softmax (the loss applies it, pixel by pixel): one output.
    CHECK(cnn::onnx_value_shape(unet_proto, "output") == Dims{-1, 11, 96, 96});
}

TEST_CASE("to_onnx: Keras's uneven 'same' padding and a kernel smaller than its stride, written out") {
    // Conv2D(1, 4, 'same') on 6 x 6: 3 rows of padding, 1 above and 2 below (Keras puts the
    // odd one at the end), so ONNX's pads are (top 1, left 1, bottom 2, right 2).
    // Conv2DTranspose(1, 1, stride 2, 'valid') on 6 x 6: Keras's output is 6 * 2 = 12 rows;
    // ONNX's ConvTranspose gives S (H - 1) + K = 11, so one row of output_padding.
    cnn::Sequential model(3, "geometry");
    model.add(cnn::Conv2D(1, 4).padding("same").input_shape({1, 6, 6}));
    model.add(cnn::Conv2DTranspose(1, 1).strides(2));
    onnx::ModelProto proto = cnn::to_onnx(model);
    REQUIRE_NOTHROW(cnn::check_onnx(proto));
    const auto ints_of = [&](const std::string& op, const std::string& attribute) {
        for (const onnx::NodeProto& n : proto.graph().node()) {
            if (n.op_type() != op) {
                continue;
            }
            for (const onnx::AttributeProto& a : n.attribute()) {
                if (a.name() == attribute) {
                    return Dims(a.ints().begin(), a.ints().end());
                }
            }
        }
        return Dims{};
    };
    CHECK(ints_of("Conv", "pads") == Dims{1, 1, 2, 2});
    CHECK(ints_of("ConvTranspose", "pads") == Dims{0, 0, 0, 0});
    CHECK(ints_of("ConvTranspose", "output_padding") == Dims{1, 1});
    CHECK(cnn::onnx_value_shape(proto, "output") == Dims{-1, 1, 12, 12});
}

TEST_CASE("to_onnx: a layer without an ONNX operator is an error that names it") {
    cnn::Sequential model(3, "unexportable");
    model.add(cnn::Dense(4).input_shape({3}));
    model.add(Softplus());
    model.add(cnn::Dense(2));
    try {
        (void)cnn::to_onnx(model);
        FAIL("expected an OnnxError");
    } catch (const cnn::OnnxError& e) {
        const std::string message = e.what();
        CHECK(message.find("softplus (Softplus)") != std::string::npos);
        CHECK(message.find("Conv2DTranspose") != std::string::npos);  // what it can write
    }
}

TEST_CASE("check_onnx: ONNX's checker refuses a broken export, with ONNX's reason") {
    cnn::Sequential model = cnn::tiny_model(5);
    const onnx::ModelProto good = cnn::to_onnx(model);

    SUBCASE("an operator ONNX does not know") {
        onnx::ModelProto broken = good;
        broken.mutable_graph()->mutable_node(0)->set_op_type("Convolution");
        CHECK_THROWS_WITH_AS(cnn::check_onnx(broken), doctest::Contains("Convolution"), cnn::OnnxError);
    }
    SUBCASE("a weight that is not there") {
        onnx::ModelProto broken = good;
        broken.mutable_graph()->mutable_initializer()->RemoveLast();  // the last Dense's bias
        CHECK_THROWS_AS(cnn::check_onnx(broken), cnn::OnnxError);
    }
    SUBCASE("an output declared with the wrong shape: shape inference finds another") {
        onnx::ModelProto broken = good;
        onnx::TensorShapeProto& shape =
            *broken.mutable_graph()->mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
        shape.mutable_dim(1)->set_dim_value(shape.dim(1).dim_value() + 1);  // 11 classes, not 10
        CHECK_THROWS_AS(cnn::check_onnx(broken), cnn::OnnxError);
    }
    SUBCASE("a convolution with padding for three axes: its attributes do not fit") {
        onnx::ModelProto broken = good;
        onnx::NodeProto& conv = *broken.mutable_graph()->mutable_node(0);
        REQUIRE(conv.op_type() == "Conv");
        for (onnx::AttributeProto& a : *conv.mutable_attribute()) {
            if (a.name() == "pads") {
                a.add_ints(0);
                a.add_ints(0);  // six numbers: the begin and end of three axes
            }
        }
        CHECK_THROWS_WITH_AS(cnn::check_onnx(broken), doctest::Contains("pads"), cnn::OnnxError);
    }
    SUBCASE("what the checker does not see: a Dense kernel with one row too many") {
        // ONNX's shape inference for Gemm checks only that both inputs are matrices, not that
        // A's columns meet B's rows: this broken file passes, and only running it (ONNX
        // Runtime) finds the mismatch. Chapter 12's page says so; this case keeps it true.
        onnx::ModelProto broken = good;
        bool changed = false;
        for (onnx::TensorProto& t : *broken.mutable_graph()->mutable_initializer()) {
            if (t.dims_size() == 2 && !changed) {  // the Dense kernel (D, M)
                t.set_dims(0, t.dims(0) + 1);
                changed = true;
            }
        }
        REQUIRE(changed);
        CHECK_NOTHROW(cnn::check_onnx(broken));
    }
    SUBCASE("the untouched export passes") {
        onnx::ModelProto copy = good;
        CHECK_NOTHROW(cnn::check_onnx(copy));
    }
}

TEST_CASE("save_onnx and read_onnx: a file written whole, read back checked, and every truncation refused") {
    cnn::testing::TempDir dir;
    cnn::Sequential model(9, "small");
    model.add(cnn::Conv2D(2, 3).activation("relu").input_shape({1, 5, 5}));
    model.add(cnn::Flatten());
    model.add(cnn::Dense(3).activation("softmax"));
    onnx::ModelProto proto = cnn::to_onnx(model);
    const std::filesystem::path file = dir.path() / "small.onnx";
    cnn::save_onnx(proto, file);
    const onnx::ModelProto back = cnn::read_onnx(file);
    CHECK(back.graph().node_size() == proto.graph().node_size());
    CHECK(back.graph().initializer_size() == 4);

    // Every shorter prefix of the file, as an interrupted copy would leave it: each is refused
    // with an error that names the file, whether it still parses or not.
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::filesystem::path cut = dir.path() / "cut.onnx";
    std::size_t refused = 0;
    for (std::size_t length = 0; length < bytes.size(); ++length) {
        std::ofstream(cut, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(length));
        try {
            (void)cnn::read_onnx(cut);
            INFO("a prefix of ", length, " of ", bytes.size(), " bytes was accepted");
            CHECK(false);
        } catch (const cnn::DataError& e) {
            CHECK(std::string(e.what()).find("cut.onnx") != std::string::npos);
            ++refused;
        }
    }
    CHECK(refused == bytes.size());
    CHECK_THROWS_AS(cnn::read_onnx(dir.path() / "missing.onnx"), cnn::DataError);
}
