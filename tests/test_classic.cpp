#include <sstream>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "cnn/model/classic.hpp"

namespace {

std::size_t multiply_adds(const cnn::Model& model) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < model.size(); ++i) {
        total += model.layer(i).multiply_adds(model.output_shape(i));
    }
    return total;
}

}  // namespace

// The golden values below are computed by hand from the papers' layer tables, one layer per
// term: a convolution has FN * (C * FH * FW + 1) parameters and OH * OW * FN * C * FH * FW
// multiply-adds; a Dense layer D * M + M parameters and D * M multiply-adds.
TEST_CASE("alexnet: the paper's shapes, and the parameters of the undivided network") {
    cnn::Sequential model = cnn::alexnet(1);
    model.build();
    CHECK(model.output_shape(0) == cnn::Shape{96, 55, 55});   // (227 - 11) / 4 + 1
    CHECK(model.output_shape(1) == cnn::Shape{96, 27, 27});   // (55 - 3) / 2 + 1
    CHECK(model.output_shape(3) == cnn::Shape{256, 13, 13});
    CHECK(model.output_shape(7) == cnn::Shape{256, 6, 6});
    CHECK(model.output_shape(8) == cnn::Shape{9216});
    // 34,944 + 614,656 + 885,120 + 1,327,488 + 884,992 + 37,752,832 + 16,781,312 + 4,097,000
    CHECK(model.parameter_count() == 62378344);
    // 105,415,200 + 447,897,600 + 149,520,384 + 224,280,576 + 149,520,384 (convolutions)
    // + 37,748,736 + 16,777,216 + 4,096,000 (Dense)
    CHECK(multiply_adds(model) == 1135256096);
}

TEST_CASE("vgg16: 138,357,544 parameters and 15.47 billion multiply-adds") {
    // 138,357,544 is also the total Keras prints for keras.applications.VGG16().
    cnn::Sequential model = cnn::vgg16(1);
    model.build();
    CHECK(model.parameter_count() == 138357544);
    CHECK(multiply_adds(model) == 15470264320);
    CHECK(model.output_shape(model.size() - 5) == cnn::Shape{512, 7, 7});  // the last pooling
}

TEST_CASE("vgg: blocks of 3x3 convolutions, each ending in a pooling") {
    cnn::VggOptions o;
    o.block_filters = {4, 8};
    o.dense_units = {16};
    o.dropout = 0.25f;
    cnn::Sequential model = cnn::vgg(o, 1);
    model.build();
    // conv, conv, pool, conv, conv, pool, flatten, dense, dropout, dense
    REQUIRE(model.size() == 10);
    CHECK(model.layer(2).type() == "MaxPooling2D");
    CHECK(model.layer(8).type() == "Dropout");
    CHECK(model.output_shape(5) == cnn::Shape{8, 7, 7});
    // (1*9+1)*4 + (4*9+1)*4 + (4*9+1)*8 + (8*9+1)*8 + (392+1)*16 + (16+1)*10
    CHECK(model.parameter_count() == 40 + 148 + 296 + 584 + 6288 + 170);
}

TEST_CASE("vgg: what cannot be built is refused with the reason") {
    cnn::VggOptions none;
    CHECK_THROWS_WITH_AS(cnn::vgg(none, 1), "vgg: expected at least one block, got none",
                         std::invalid_argument);
    cnn::VggOptions mismatched;
    mismatched.block_filters = {8, 16};
    mismatched.block_sizes = {2};
    CHECK_THROWS_WITH_AS(cnn::vgg(mismatched, 1),
                         "vgg: expected one block size per block (2), got 1",
                         std::invalid_argument);
    cnn::VggOptions empty_block;
    empty_block.block_filters = {8};
    empty_block.block_sizes = {0};
    CHECK_THROWS_WITH_AS(cnn::vgg(empty_block, 1),
                         "vgg: block 1 has no convolution; expected at least 1",
                         std::invalid_argument);
}
