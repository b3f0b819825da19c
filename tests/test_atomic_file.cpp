#include <fstream>
#include <stdexcept>

#include <doctest/doctest.h>

#include "support/io/atomic_file.hpp"
#include "test_support.hpp"

TEST_CASE("write_file_atomically: the whole text or nothing, and no partial file left behind") {
    cnn::testing::TempDir dir;
    cnn::write_file_atomically(dir / "a.txt", "first\n");
    cnn::write_file_atomically(dir / "a.txt", "second\n");  // replaces
    std::ifstream in(dir / "a.txt");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "second\n");
    CHECK(dir.files() == std::vector<std::string>{"a.txt"});
    // A file in a folder that does not exist cannot be written: an error, and nothing appears.
    CHECK_THROWS_WITH_AS(cnn::write_file_atomically(dir / "missing" / "b.txt", "x"),
                         doctest::Contains("cannot write"), std::runtime_error);
    CHECK(dir.files() == std::vector<std::string>{"a.txt"});
}
