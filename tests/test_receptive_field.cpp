#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/ops/receptive_field.hpp"

TEST_CASE("receptive_fields: stacks worked out by hand") {
    // Two 3x3 layers, stride 1: 1 + 2 + 2 = 5 (Prince's 5x5); a third gives 7.
    const auto two = cnn::receptive_fields({{"a", 3, 1, 1}, {"b", 3, 1, 1}, {"c", 3, 1, 1}});
    REQUIRE(two.size() == 4);
    CHECK(two[1].size == 3);
    CHECK(two[2].size == 5);
    CHECK(two[3].size == 7);
    CHECK(two[3].jump == 1);
    CHECK(two[3].start == 0.0);  // 'same' padding keeps unit 0 centred on pixel 0
    // Stride 2 first: r = 3, j = 2; then each 3x3 adds (3 - 1) * 2 = 4: 7, 11.
    const auto strided = cnn::receptive_fields({{"s2", 3, 2, 1}, {"b", 3, 1, 1}, {"c", 3, 1, 1}});
    CHECK(strided[1].size == 3);
    CHECK(strided[1].jump == 2);
    CHECK(strided[2].size == 7);
    CHECK(strided[3].size == 11);
    // A 2x2 pooling with stride 2 and no padding: r = 2, j = 2, unit 0 centred between
    // pixels 0 and 1 (start 0.5); a 3x3 after it: r = 2 + 2 * 2 = 6.
    const auto pooled = cnn::receptive_fields({{"pool", 2, 2, 0}, {"conv", 3, 1, 1}});
    CHECK(pooled[1].size == 2);
    CHECK(pooled[1].start == 0.5);
    CHECK(pooled[2].size == 6);
    CHECK(pooled[2].jump == 2);
    CHECK_THROWS_AS(cnn::receptive_fields({{"bad", 3, 0, 0}}), std::invalid_argument);
}
