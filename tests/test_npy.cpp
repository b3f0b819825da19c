// Tests of support/io/npy.hpp: writing .npy files as numpy.save does, reading them back, and
// refusing every kind of broken one.
//
// The broken files are built byte by byte from the format's definition (see the table in
// npy.hpp) by npy_file() below, not by the writer under test. The one file NumPy itself wrote,
// tests/fixtures/numpy_2x3.npy, was made with Debian's python3-numpy (NumPy 1.24) by
//
//     /usr/bin/python3 -c "import numpy as np; np.save('tests/fixtures/numpy_2x3.npy',
//         np.array([[0.5, -1.25, 3.0], [0.1, -0.0, 1e-3]], dtype=np.float32))"
//
// (one line), so these tests need no Python.
#include "support/io/npy.hpp"
#include "idx_files.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using cnn::testing::data_error_of;

namespace {

std::string read_bytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary);
    out << bytes;
    REQUIRE(out.good());
}

// The values as the file stores them: 4 bytes each, little-endian.
std::string float_bytes(const std::vector<float>& values) {
    std::string bytes;
    for (float value : values) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &value, 4);
        for (int i = 0; i < 4; ++i) {
            bytes += static_cast<char>((bits >> (8 * i)) & 0xFF);
        }
    }
    return bytes;
}

// A .npy file by the format's definition: the magic string, the version, HEADER_LEN (2 bytes
// in version 1.0, 4 in 2.0, little-endian), `dictionary` padded with spaces and a '\n' to a
// multiple of `align` bytes, then `data`.
std::string npy_file(const std::string& dictionary, const std::string& data, int major = 1,
                     std::size_t align = 64) {
    const std::size_t length_bytes = major == 1 ? 2 : 4;
    const std::size_t unpadded = 8 + length_bytes + dictionary.size() + 1;
    const std::size_t padding = (align - unpadded % align) % align;
    const std::size_t header_length = dictionary.size() + padding + 1;
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += '\0';
    for (std::size_t i = 0; i < length_bytes; ++i) {
        bytes += static_cast<char>((header_length >> (8 * i)) & 0xFF);
    }
    return bytes + dictionary + std::string(padding, ' ') + "\n" + data;
}

// The dictionary numpy.save writes for a float32 array with this shape tuple.
std::string f4_dictionary(const std::string& shape) {
    return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
}


// A table row: an input, and what it should produce.
struct Case {
    std::string input;
    std::string expected;
};

// True if the two arrays hold the same bits: tells -0.0 from 0.0 and compares NaNs.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), 4 * a.size()) == 0;
}

std::size_t product(const std::vector<std::size_t>& shape) {
    std::size_t count = 1;
    for (std::size_t dim : shape) {
        count *= dim;
    }
    return count;
}

}  // namespace

TEST_CASE("write_npy then read_npy gives back the shape and every bit of the values") {
    cnn::testing::TempDir dir;
    cnn::Rng rng(6);
    const std::vector<std::vector<std::size_t>> shapes = {{5}, {2, 3},          {64, 1, 7, 7},
                                                          {1}, {2, 1, 3, 1, 2}, {}};
    for (const std::vector<std::size_t>& shape : shapes) {
        CAPTURE(shape.size());
        std::vector<float> values(product(shape));
        for (float& v : values) {
            v = rng.uniform(-1.0f, 1.0f);
        }
        // Values that a careless conversion would lose.
        const float specials[] = {-0.0f,
                                  std::numeric_limits<float>::infinity(),
                                  -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN(),
                                  std::numeric_limits<float>::denorm_min(),
                                  std::numeric_limits<float>::max(),
                                  0.1f};
        for (std::size_t i = 0; i < values.size() && i < std::size(specials); ++i) {
            values[i] = specials[i];
        }
        const fs::path file = dir / "array.npy";
        cnn::write_npy(file, values.data(), shape);
        const cnn::NpyArray array = cnn::read_npy(file);
        CHECK(array.shape == shape);
        CHECK(same_bits(array.data, values));
    }
}

TEST_CASE("zero-size arrays are allowed: a header and no data") {
    cnn::testing::TempDir dir;
    for (const std::vector<std::size_t>& shape :
         {std::vector<std::size_t>{0}, std::vector<std::size_t>{3, 0, 2}}) {
        const fs::path file = dir / "empty.npy";
        cnn::write_npy(file, nullptr, shape);
        CHECK(fs::file_size(file) == 128);  // the header alone
        const cnn::NpyArray array = cnn::read_npy(file);
        CHECK(array.shape == shape);
        CHECK(array.data.empty());
    }
}

TEST_CASE("write_npy writes numpy's header: magic, version 1.0, a dictionary padded to 64") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "a.npy";
    const std::vector<float> values = {1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -0.25f};
    cnn::write_npy(file, values.data(), {2, 3});
    const std::string bytes = read_bytes(file);
    REQUIRE(bytes.size() == 128 + 24);

    CHECK(bytes.substr(0, 6) == "\x93NUMPY");
    CHECK(bytes[6] == 1);  // major version
    CHECK(bytes[7] == 0);  // minor version
    // HEADER_LEN, little-endian: 118 = 0x76, so that 10 + 118 = 128 = 2 x 64.
    CHECK(static_cast<unsigned char>(bytes[8]) == 118);
    CHECK(bytes[9] == 0);
    const std::string header = bytes.substr(10, 118);
    const std::string dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    CHECK(header.substr(0, dictionary.size()) == dictionary);
    CHECK(header.find_first_not_of(' ', dictionary.size()) == 117);  // spaces, then...
    CHECK(header.back() == '\n');                                    // ...the final newline
    // The data: 1.0f is 0x3F800000, stored low byte first.
    CHECK(bytes.substr(128, 4) == std::string("\x00\x00\x80\x3F", 4));
    CHECK(bytes.substr(128) == float_bytes(values));

    // The shape is a Python tuple: (5,) in 1-D, () in 0-D; the data still starts at 128.
    struct Tuple {
        std::vector<std::size_t> shape;
        std::string python;
    };
    const std::vector<Tuple> tuples = {
        {{5}, "(5,)"}, {{64, 1, 7, 7}, "(64, 1, 7, 7)"}, {{}, "()"}, {{0}, "(0,)"}};
    for (const Tuple& tuple : tuples) {
        const std::vector<float> zeros(product(tuple.shape), 0.0f);
        cnn::write_npy(file, zeros.data(), tuple.shape);
        const std::string written = read_bytes(file);
        const std::string dictionary_of_tuple = f4_dictionary(tuple.python);
        CAPTURE(dictionary_of_tuple);
        CHECK(written.substr(10, dictionary_of_tuple.size()) == dictionary_of_tuple);
        CHECK(static_cast<unsigned char>(written[8]) == 118);
        CHECK(written[127] == '\n');
        CHECK(written.size() == 128 + 4 * zeros.size());
    }
}

TEST_CASE("read_npy reads the file numpy.save wrote, and write_npy writes the same bytes") {
    const fs::path fixture = fs::path(CNN_SOURCE_DIR) / "tests" / "fixtures" / "numpy_2x3.npy";
    const std::vector<float> expected = {0.5f, -1.25f, 3.0f, 0.1f, -0.0f, 1e-3f};

    const cnn::NpyArray array = cnn::read_npy(fixture);
    CHECK(array.shape == std::vector<std::size_t>{2, 3});
    CHECK(same_bits(array.data, expected));

    cnn::testing::TempDir dir;
    cnn::write_npy(dir / "ours.npy", expected.data(), {2, 3});
    CHECK(read_bytes(dir / "ours.npy") == read_bytes(fixture));
}

TEST_CASE("read_npy accepts what other writers may vary: key order, quotes, spaces, v2.0") {
    cnn::testing::TempDir dir;
    const std::string data = float_bytes({1, 2, 3, 4, 5, 6});
    struct Variant {
        std::string what;
        std::string bytes;
    };
    const std::vector<Variant> variants = {
        {"key order, no trailing comma",
         npy_file("{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", data)},
        {"double quotes, no spaces",
         npy_file("{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,3,)}", data)},
        {"version 2.0", npy_file(f4_dictionary("(2, 3)"), data, 2)},
        {"16-byte padding (NumPy before 1.14)", npy_file(f4_dictionary("(2, 3)"), data, 1, 16)},
    };
    for (const Variant& variant : variants) {
        CAPTURE(variant.what);
        write_bytes(dir / "v.npy", variant.bytes);
        const cnn::NpyArray array = cnn::read_npy(dir / "v.npy");
        CHECK(array.shape == std::vector<std::size_t>{2, 3});
        CHECK(array.data == std::vector<float>{1, 2, 3, 4, 5, 6});
    }
}

TEST_CASE("read_npy rejects a file without the .npy magic string, starting with its path") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "not.npy";
    std::string bytes = npy_file(f4_dictionary("(1,)"), float_bytes({1}));
    bytes[1] = 'n';  // "\x93nUMPY"
    write_bytes(file, bytes);
    const std::string expected =
        file.string() + ": not a .npy file: expected the magic string \\x93NUMPY, found \\x93nUMPY";
    CHECK_THROWS_WITH_AS(cnn::read_npy(file), doctest::Contains(expected.c_str()), cnn::DataError);
    write_bytes(file, "PK\x03\x04");  // a zip file (an .npz) that ends at once
    CHECK(data_error_of([&] { cnn::read_npy(file); }).find("the file ends inside the magic") !=
          std::string::npos);
}

TEST_CASE("read_npy rejects format versions other than 1.0 and 2.0") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "v3.npy";
    write_bytes(file, npy_file(f4_dictionary("(1,)"), float_bytes({1}), 3));
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("expected .npy format version 1.0 or 2.0, found 3.0"),
                         cnn::DataError);
}

TEST_CASE("read_npy rejects another element type, naming it: '<f8' is 64-bit float") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "doubles.npy";
    write_bytes(file, npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                               std::string(16, '\0')));
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("expected descr '<f4' (little-endian 32-bit float), "
                                           "found '<f8' (little-endian 64-bit float)"),
                         cnn::DataError);
    write_bytes(file, npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                               std::string(8, '\0')));
    CHECK(data_error_of([&] {
              cnn::read_npy(file);
          }).find("found '>f4' (big-endian 32-bit float)") != std::string::npos);
}

TEST_CASE("read_npy rejects Fortran (column-major) order") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "fortran.npy";
    write_bytes(file, npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                               float_bytes({1, 2, 3, 4, 5, 6})));
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("expected 'fortran_order': False (C order, last index "
                                           "fastest), found True"),
                         cnn::DataError);
}

TEST_CASE("read_npy rejects a shape that is not a tuple of non-negative integers") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "shape.npy";
    const std::vector<Case> cases = {
        {"(5)", "the shape (5) is not a tuple; Python writes a 1-D shape with a comma: (5,)"},
        {"(2 3)", "expected ',' or ')' in the shape tuple"},
        {"(-1,)", "expected a dimension (a non-negative integer) in the shape tuple"},
        {"(2.0, 3)", "expected ',' or ')' in the shape tuple"},
        {"[2, 3]", "expected a tuple such as (2, 3) or (5,) for 'shape'"},
        {"(2, 3", "expected a dimension (a non-negative integer)"},  // "(2, 3, }"
        {"(2,, 3)", "expected a dimension (a non-negative integer)"},
        {"(99999999999999999999999,)", "a dimension is larger than 18446744073709551615"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.input);
        write_bytes(file, npy_file(f4_dictionary(c.input), float_bytes({1, 2, 3, 4, 5, 6})));
        const std::string error = data_error_of([&] { cnn::read_npy(file); });
        CHECK(error.find(file.string() + ": malformed .npy header: " + c.expected) == 0);
    }
}

TEST_CASE("read_npy rejects a header that is not a dictionary of exactly the three keys") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "keys.npy";
    const std::vector<Case> cases = {
        {"{'descr': '<f4', 'shape': (1,), }", "the key 'fortran_order' is missing"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1, }",
         "unexpected key 'extra'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
         "the key 'descr' appears twice"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,), }",
         "expected True or False for 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
         "expected only spaces and a newline after the dictionary"},
        {"('descr', '<f4')", "expected the '{' that opens the header's dictionary"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.input);
        write_bytes(file, npy_file(c.input, float_bytes({1})));
        const std::string error = data_error_of([&] { cnn::read_npy(file); });
        CHECK(error.find(file.string() + ": malformed .npy header: " + c.expected) == 0);
    }
}

TEST_CASE("read_npy rejects a header longer than the file or than numpy.load's limit") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "header.npy";
    std::string bytes = npy_file(f4_dictionary("(1,)"), "");
    write_bytes(file, bytes.substr(0, 100));  // cut inside the header
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("the file ends inside the header: its length field "
                                           "says 118 bytes, but only 90 follow"),
                         cnn::DataError);
    bytes[8] = '\x11';  // HEADER_LEN 0x2711 = 10001
    bytes[9] = '\x27';
    write_bytes(file, bytes);
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("expected a header of at most 10000 bytes"),
                         cnn::DataError);
}

TEST_CASE("read_npy rejects truncated data, saying how many bytes it expected and found") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "short.npy";
    write_bytes(file, npy_file(f4_dictionary("(2, 3)"), float_bytes({1, 2, 3, 4, 5}) + "\x01"));
    const std::string expected = file.string() +
                                 ": the file is truncated: expected 24 bytes of float32 data for "
                                 "shape (2, 3), found 21";
    CHECK_THROWS_WITH_AS(cnn::read_npy(file), doctest::Contains(expected.c_str()), cnn::DataError);
}

TEST_CASE("read_npy rejects trailing bytes after the data") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "long.npy";
    write_bytes(file, npy_file(f4_dictionary("(2,)"), float_bytes({1, 2}) + "xyz"));
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("expected the file to end after 8 bytes of float32 "
                                           "data for shape (2,), found 3 more (trailing bytes)"),
                         cnn::DataError);
}

TEST_CASE("read_npy refuses an absurd shape at once, without allocating for it") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "absurd.npy";
    // 2^96 values: the size overflows 64 bits.
    write_bytes(file, npy_file(f4_dictionary("(4294967296, 4294967296, 4294967296)"), ""));
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("the shape (4294967296, 4294967296, 4294967296) "
                                           "describes more than 18446744073709551615 bytes"),
                         cnn::DataError);
    // 2^40 values (4 TiB) that do not overflow but are not in the file. A reader that
    // allocated before comparing with the file's size would fail with std::bad_alloc (or
    // take the machine's memory), not with this DataError.
    write_bytes(file, npy_file(f4_dictionary("(1099511627776,)"), float_bytes({1})));
    CHECK_THROWS_WITH_AS(cnn::read_npy(file),
                         doctest::Contains("the file is truncated: expected 4398046511104 bytes "
                                           "of float32 data for shape (1099511627776,), found 4"),
                         cnn::DataError);
    // A zero dimension makes the size zero, however large the others: that is no overflow.
    write_bytes(file, npy_file(f4_dictionary("(4294967296, 4294967296, 4294967296, 0)"), ""));
    CHECK(cnn::read_npy(file).data.empty());
}

TEST_CASE("read_npy says so when the file is missing or is a directory") {
    cnn::testing::TempDir dir;
    const std::string missing =
        (dir / "nothing.npy").string() + ": cannot open the file: it does not exist";
    CHECK_THROWS_WITH_AS(cnn::read_npy(dir / "nothing.npy"), doctest::Contains(missing.c_str()),
                         cnn::DataError);
    CHECK_THROWS_WITH_AS(cnn::read_npy(dir.path()),
                         doctest::Contains("expected a .npy file, found a directory"),
                         cnn::DataError);
}

TEST_CASE("write_npy refuses a shape whose size overflows, and a null pointer") {
    cnn::testing::TempDir dir;
    const float one = 1.0f;
    const std::size_t huge = std::size_t{1} << 62;  // x 4 bytes overflows 64 bits
    CHECK_THROWS_WITH_AS(cnn::write_npy(dir / "huge.npy", &one, {huge}),
                         doctest::Contains("its size in bytes does not fit in a size_t"),
                         cnn::DataError);
    CHECK_THROWS_WITH_AS(cnn::write_npy(dir / "null.npy", nullptr, {2}),
                         doctest::Contains("from a null data pointer"), cnn::DataError);
    CHECK(dir.files().empty());
}

TEST_CASE("write_npy replaces a file whole and leaves no temporary file behind") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "w.npy";
    const std::vector<float> first = {1, 2, 3}, second = {4, 5};
    cnn::write_npy(file, first.data(), {3});
    cnn::write_npy(file, second.data(), {2});
    CHECK(cnn::read_npy(file).data == second);
    CHECK(dir.files() == std::vector<std::string>{"w.npy"});
    // A file that cannot be written: the error names it.
    const fs::path nowhere = dir / "no-such-directory" / "x.npy";
    const std::string expected = nowhere.string() + ": cannot write the file";
    CHECK_THROWS_WITH_AS(cnn::write_npy(nowhere, first.data(), {3}),
                         doctest::Contains(expected.c_str()), cnn::DataError);
}
