#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include <doctest/doctest.h>

#include "cnn/model/batches.hpp"

TEST_CASE("shuffled_batches: every index once per epoch, last batch smaller, order changes") {
    cnn::Rng rng(2);
    const auto batches = cnn::shuffled_batches(10, 4, rng);
    REQUIRE(batches.size() == 3);
    CHECK(batches[0].size() == 4);
    CHECK(batches[2].size() == 2);
    std::vector<std::size_t> all;
    for (const auto& b : batches) {
        all.insert(all.end(), b.begin(), b.end());
    }
    std::vector<std::size_t> sorted = all;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    CHECK(all != sorted);  // shuffled (10! orders: the chance of the identity is 3e-7)
    const auto next_epoch = cnn::shuffled_batches(10, 4, rng);
    CHECK(next_epoch != batches);
    CHECK(cnn::ordered_batches(5, 2) ==
          std::vector<std::vector<std::size_t>>{{0, 1}, {2, 3}, {4}});
    CHECK_THROWS_AS(cnn::ordered_batches(5, 0), std::invalid_argument);
}

TEST_CASE("take_examples and take_labels gather in the given order") {
    const cnn::Tensor4 x = {{{{0, 1}}}, {{{2, 3}}}, {{{4, 5}}}};  // (3, 1, 1, 2)
    const cnn::Tensor4 picked = cnn::take_examples(x, {2, 0});
    CHECK(picked == cnn::Tensor4{{{{4, 5}}}, {{{0, 1}}}});
    CHECK(cnn::take_labels({7, 8, 9}, {2, 0}) == cnn::Labels{9, 7});
    CHECK_THROWS_AS(cnn::take_examples(x, {3}), std::out_of_range);
}

TEST_CASE("take_examples gathers masks (one class per pixel) the same way") {
    using Masks = xt::xtensor<std::uint8_t, 3>;
    const Masks masks = {{{1, 2}}, {{3, 4}}, {{5, 6}}};  // (3, 1, 2)
    CHECK(cnn::take_examples(masks, {1, 1, 2}) == Masks{{{3, 4}}, {{3, 4}}, {{5, 6}}});
    CHECK(cnn::take_examples(masks, {}).shape(0) == 0);
    CHECK_THROWS_AS(cnn::take_examples(masks, {0, 3}), std::out_of_range);
}
