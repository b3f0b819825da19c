#include <array>
#include <fstream>
#include <stdexcept>

#include <doctest/doctest.h>
#include <stb_image_write.h>

#include "support/io/idx.hpp"
#include "support/io/image.hpp"
#include "test_support.hpp"

TEST_CASE("load_grayscale_image: grey PNG values come back divided by 255") {
    cnn::testing::TempDir dir;
    const unsigned char pixels[6] = {0, 51, 102, 153, 204, 255};  // 2 rows of 3
    REQUIRE(stbi_write_png((dir / "grey.png").string().c_str(), 3, 2, 1, pixels, 3) != 0);
    const cnn::Tensor2 image = cnn::load_grayscale_image(dir / "grey.png");
    REQUIRE(image.shape(0) == 2);
    REQUIRE(image.shape(1) == 3);
    CHECK(image(0, 1) == doctest::Approx(0.2));
    CHECK(image(1, 2) == doctest::Approx(1.0));
}

TEST_CASE("load_grayscale_image: colour becomes grey, and big images shrink by block means") {
    cnn::testing::TempDir dir;
    // A 4x6 RGB image: white everywhere except a black 2x2 block at the top left.
    unsigned char rgb[4 * 6 * 3];
    for (int i = 0; i < 4 * 6 * 3; ++i) {
        rgb[i] = 255;
    }
    for (int r = 0; r < 2; ++r) {
        for (int c = 0; c < 2; ++c) {
            for (int ch = 0; ch < 3; ++ch) {
                rgb[(r * 6 + c) * 3 + ch] = 0;
            }
        }
    }
    REQUIRE(stbi_write_png((dir / "rgb.png").string().c_str(), 6, 4, 3, rgb, 6 * 3) != 0);
    const cnn::Tensor2 full = cnn::load_grayscale_image(dir / "rgb.png");
    CHECK(full(0, 0) == 0.0f);
    CHECK(full(3, 5) == doctest::Approx(1.0));
    // At most 3 pixels a side: shrunk by 2, each pixel the mean of a 2x2 block.
    const cnn::Tensor2 small = cnn::load_grayscale_image(dir / "rgb.png", 3);
    REQUIRE(small.shape(0) == 2);
    REQUIRE(small.shape(1) == 3);
    CHECK(small(0, 0) == 0.0f);
    CHECK(small(0, 1) == doctest::Approx(1.0));
}

TEST_CASE("load_grayscale_image: a missing or corrupt file is a DataError naming it") {
    cnn::testing::TempDir dir;
    CHECK_THROWS_WITH_AS(cnn::load_grayscale_image(dir / "missing.png"),
                         doctest::Contains("missing.png: cannot read the image"), cnn::DataError);
    std::ofstream(dir / "bad.png") << "this is not an image";
    CHECK_THROWS_WITH_AS(cnn::load_grayscale_image(dir / "bad.png"),
                         doctest::Contains("bad.png: cannot read the image"), cnn::DataError);
}

TEST_CASE("load_rgb_image: each channel its own plane, shrunk channel by channel") {
    cnn::testing::TempDir dir;
    // A 2x4 image: pure red, green, blue and (51, 102, 204) in the top row; the bottom row
    // black, so that a shrink by 2 halves each top-row value.
    const unsigned char rgb[2 * 4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 51, 102, 204,
                                          0,   0, 0, 0, 0,   0, 0, 0, 0,   0,  0,   0};
    REQUIRE(stbi_write_png((dir / "rgb.png").string().c_str(), 4, 2, 3, rgb, 4 * 3) != 0);
    const cnn::Tensor3 image = cnn::load_rgb_image(dir / "rgb.png");
    REQUIRE(image.shape() == std::array<std::size_t, 3>{3, 2, 4});
    CHECK(image(0, 0, 0) == 1.0f);  // red pixel: red plane 1, the others 0
    CHECK(image(1, 0, 0) == 0.0f);
    CHECK(image(1, 0, 1) == 1.0f);  // green pixel
    CHECK(image(2, 0, 2) == 1.0f);  // blue pixel
    CHECK(image(0, 0, 3) == doctest::Approx(0.2));  // 51 / 255
    CHECK(image(1, 0, 3) == doctest::Approx(0.4));
    CHECK(image(2, 0, 3) == doctest::Approx(0.8));
    CHECK(image(2, 1, 3) == 0.0f);
    // At most 2 pixels a side: shrunk by 2, each value the mean of a 2x2 block of its own
    // channel. The first block holds the red and the green pixel and two black ones.
    const cnn::Tensor3 small = cnn::load_rgb_image(dir / "rgb.png", 2);
    REQUIRE(small.shape() == std::array<std::size_t, 3>{3, 1, 2});
    CHECK(small(0, 0, 0) == doctest::Approx(0.25));         // red: 1 of 4 values
    CHECK(small(1, 0, 0) == doctest::Approx(0.25));         // green: 1 of 4
    CHECK(small(2, 0, 1) == doctest::Approx((1.0 + 0.8) / 4));  // blue: columns 2 and 3
    CHECK(small(0, 0, 1) == doctest::Approx(0.2 / 4));
    CHECK_THROWS_AS(cnn::load_rgb_image(dir / "missing.png"), cnn::DataError);
}
