#include "support/io/npy.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

#include "support/io/atomic_file.hpp"

namespace cnn {

namespace {

// The file stores IEEE-754 binary32 values; so must the machine for the bit copies below.
static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4,
              "the .npy code assumes float is IEEE-754 binary32");

constexpr char npy_magic[] = "\x93NUMPY";  // 6 bytes, plus the string's terminating zero
constexpr std::size_t npy_magic_bytes = 6;
constexpr std::size_t npy_align = 64;          // numpy's ARRAY_ALIGN
constexpr std::size_t npy_growth_digits = 21;  // numpy's GROWTH_AXIS_MAX_DIGITS
constexpr std::size_t size_max = std::numeric_limits<std::size_t>::max();

// Values are decoded and encoded a chunk at a time: 16384 floats = 64 KiB of file.
constexpr std::size_t chunk_values = 16384;

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
    throw DataError(file.string() + ": " + what);
}

// A shape as Python writes a tuple, which is what the header holds: (2, 3), (5,) and ().
std::string python_tuple(const std::vector<std::size_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
    }
    return text + (shape.size() == 1 ? ",)" : ")");
}

// product(shape), or false if it does not fit in a size_t. A zero anywhere makes the product
// zero however large the other dimensions are, as in NumPy; otherwise each step checks
// `count * dim <= size_max` as `dim <= size_max / count`, which cannot itself overflow.
bool checked_product(const std::vector<std::size_t>& shape, std::size_t& product) {
    if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) {
        product = 0;
        return true;
    }
    product = 1;
    for (std::size_t dim : shape) {
        if (dim > size_max / product) {
            return false;
        }
        product *= dim;
    }
    return true;
}

// The bytes of the data: product(shape) * 4, or false if that does not fit in a size_t.
bool checked_data_bytes(const std::vector<std::size_t>& shape, std::size_t& bytes) {
    std::size_t count = 0;
    if (!checked_product(shape, count) || count > size_max / sizeof(float)) {
        return false;
    }
    bytes = count * sizeof(float);
    return true;
}

// The file's byte order is fixed (little-endian); the machine's is not. Going through the
// 32-bit pattern of each float with shifts gives the same bytes on any machine.
void encode_little_endian(float value, char* out) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    for (int i = 0; i < 4; ++i) {
        out[i] = static_cast<char>((bits >> (8 * i)) & 0xFFu);
    }
}

float decode_little_endian(const unsigned char* in) {
    const std::uint32_t bits = std::uint32_t{in[0]} | std::uint32_t{in[1]} << 8 |
                               std::uint32_t{in[2]} << 16 | std::uint32_t{in[3]} << 24;
    float value = 0.0f;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// Bytes from a file, for a message: printable ASCII as is, anything else as \xNN, the way
// Python prints a bytes object. Long texts are cut to `limit` characters.
std::string escaped(const std::string& bytes, std::size_t limit = 80) {
    std::string text;
    for (char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '\n') {
            text += "\\n";
        } else if (byte >= 0x20 && byte < 0x7F && byte != '\\') {
            text += c;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(byte));
            text += hex;
        }
        if (text.size() >= limit) {
            return text + "...";
        }
    }
    return text;
}

// What a `descr` the reader refuses means, so the message can say what was found in words:
// "<f8" -> " (little-endian 64-bit float)". "" for a descr not in this short list.
std::string describe_descr(const std::string& descr) {
    static const std::pair<const char*, const char*> types[] = {
        {"f2", "16-bit float"},   {"f4", "32-bit float"},           {"f8", "64-bit float"},
        {"i1", "8-bit integer"},  {"u1", "8-bit unsigned integer"}, {"i2", "16-bit integer"},
        {"i4", "32-bit integer"}, {"i8", "64-bit integer"},         {"b1", "boolean"},
    };
    if (descr.empty()) {
        return "";
    }
    std::string order;
    switch (descr[0]) {
        case '<':
            order = "little-endian ";
            break;
        case '>':
            order = "big-endian ";
            break;
        case '|':  // byte order does not apply (one-byte types)
        case '=':  // the writing machine's order
            break;
        default:
            return "";
    }
    for (const auto& [code, name] : types) {
        if (descr.compare(1, std::string::npos, code) == 0) {
            return " (" + order + name + ")";
        }
    }
    return "";
}

// What the header's dictionary says.
struct NpyHeader {
    std::string descr;
    bool fortran_order = false;
    std::vector<std::size_t> shape;
};

// Parses the header's dictionary, a Python literal such as
//
//     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// NumPy evaluates it with Python's literal parser; this small recursive-descent parser accepts
// the part of Python's syntax such a header uses: a dictionary of exactly the three keys in
// any order, strings in single or double quotes, True/False, and a tuple of non-negative
// integers, with any spacing and optional trailing commas. Every error names what was
// expected, what was found, and where.
class HeaderParser {
public:
    HeaderParser(const std::filesystem::path& file, const std::string& text)
        : file_(file), text_(text) {}

    NpyHeader parse() {
        NpyHeader header;
        bool seen_descr = false, seen_fortran_order = false, seen_shape = false;
        expect('{', "the '{' that opens the header's dictionary");
        while (!accept('}')) {
            const std::size_t key_at = at_;
            const std::string key = parse_string("a key such as 'descr' or '}'");
            expect(':', "':' after the key '" + key + "'");
            if (key == "descr" && !seen_descr) {
                header.descr = parse_string("the descr string, e.g. '<f4'");
                seen_descr = true;
            } else if (key == "fortran_order" && !seen_fortran_order) {
                header.fortran_order = parse_bool();
                seen_fortran_order = true;
            } else if (key == "shape" && !seen_shape) {
                header.shape = parse_shape();
                seen_shape = true;
            } else {
                at_ = key_at;
                error(key == "descr" || key == "fortran_order" || key == "shape"
                          ? "the key '" + key + "' appears twice"
                          : "unexpected key '" + escaped(key) + "'; a .npy header has exactly " +
                                "the keys 'descr', 'fortran_order' and 'shape'");
            }
            if (!accept(',')) {  // after the last entry the comma is optional
                expect('}', "',' or the '}' that closes the dictionary");
                break;
            }
        }
        const char* missing = !seen_descr           ? "descr"
                              : !seen_fortran_order ? "fortran_order"
                              : !seen_shape         ? "shape"
                                                    : nullptr;
        if (missing != nullptr) {
            error(std::string("the key '") + missing + "' is missing; a .npy header has " +
                  "exactly the keys 'descr', 'fortran_order' and 'shape'");
        }
        skip_spaces();  // the padding, spaces and the final newline
        if (at_ != text_.size()) {
            error("expected only spaces and a newline after the dictionary");
        }
        return header;
    }

private:
    // Python skips spaces, tabs and newlines between tokens.
    void skip_spaces() {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' ||
                                      text_[at_] == '\n' || text_[at_] == '\r')) {
            ++at_;
        }
    }

    // Consumes `c` (after any spaces) if it is next.
    bool accept(char c) {
        skip_spaces();
        if (at_ < text_.size() && text_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }

    void expect(char c, const std::string& what) {
        if (!accept(c)) {
            error("expected " + what);
        }
    }

    // 'text' or "text". The strings of a float32 header hold no escapes, so a backslash is
    // refused rather than interpreted.
    std::string parse_string(const std::string& what) {
        skip_spaces();
        if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"')) {
            error("expected " + what);
        }
        const char quote = text_[at_];
        const std::size_t begin = at_ + 1;
        const std::size_t end = text_.find(quote, begin);
        if (end == std::string::npos) {
            error("a string is not closed");
        }
        const std::string value = text_.substr(begin, end - begin);
        if (value.find('\\') != std::string::npos || value.find('\n') != std::string::npos) {
            error("expected a plain string, found one with escapes or a line break");
        }
        at_ = end + 1;
        return value;
    }

    bool parse_bool() {
        skip_spaces();
        if (accept_word("True")) {
            return true;
        }
        if (accept_word("False")) {
            return false;
        }
        error("expected True or False for 'fortran_order'");
    }

    // Consumes `word` if it is next and not just the start of a longer name (Falsey).
    bool accept_word(const std::string& word) {
        const std::size_t end = at_ + word.size();
        if (text_.compare(at_, word.size(), word) != 0 || is_identifier_char(end)) {
            return false;
        }
        at_ = end;
        return true;
    }

    // A Python tuple of non-negative integers: (), (5,), (2, 3) or (2, 3,). Note that (5)
    // without the comma is not a tuple in Python but the number 5 in parentheses.
    std::vector<std::size_t> parse_shape() {
        expect('(', "a tuple such as (2, 3) or (5,) for 'shape'");
        std::vector<std::size_t> shape;
        bool comma_after_last = false;
        while (!accept(')')) {
            shape.push_back(parse_dimension());
            comma_after_last = accept(',');
            if (!comma_after_last) {
                expect(')', "',' or ')' in the shape tuple");
                break;
            }
        }
        if (shape.size() == 1 && !comma_after_last) {
            error("the shape (" + std::to_string(shape[0]) + ") is not a tuple; Python writes " +
                  "a 1-D shape with a comma: (" + std::to_string(shape[0]) + ",)");
        }
        return shape;
    }

    std::size_t parse_dimension() {
        skip_spaces();
        if (at_ >= text_.size() || text_[at_] < '0' || text_[at_] > '9') {
            error("expected a dimension (a non-negative integer) in the shape tuple");
        }
        if (text_[at_] == '0' && at_ + 1 < text_.size() && text_[at_ + 1] >= '0' &&
            text_[at_ + 1] <= '9') {
            error("a dimension starts with 0, which Python does not allow");
        }
        std::size_t value = 0;
        const std::size_t begin = at_;
        for (; at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9'; ++at_) {
            const std::size_t digit = static_cast<std::size_t>(text_[at_] - '0');
            if (value > (size_max - digit) / 10) {
                at_ = begin;
                error("a dimension is larger than " + std::to_string(size_max) +
                      ", the largest size this machine can count");
            }
            value = value * 10 + digit;
        }
        return value;
    }

    bool is_identifier_char(std::size_t at) const {
        if (at >= text_.size()) {
            return false;
        }
        const char c = text_[at];
        return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
               (c >= 'A' && c <= 'Z');
    }

    // The message quotes the header without its padding, which is only spaces and '\n'.
    [[noreturn]] void error(const std::string& what) const {
        const std::size_t end = text_.find_last_not_of(" \n");
        const std::string shown = text_.substr(0, end == std::string::npos ? 0 : end + 1);
        fail(file_, "malformed .npy header: " + what + ", at character " + std::to_string(at_) +
                        " of the header \"" + escaped(shown, 120) + "\"");
    }

    const std::filesystem::path& file_;
    const std::string& text_;
    std::size_t at_ = 0;
};

// Reads exactly `count` bytes, or fails saying what part of the file ended early.
void read_exactly(std::ifstream& in, const std::filesystem::path& file, char* destination,
                  std::size_t count, const std::string& what) {
    in.read(destination, static_cast<std::streamsize>(count));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got < count) {
        if (in.bad()) {
            fail(file, "read error in the " + what);
        }
        fail(file, "the file ends inside the " + what + ": expected " + std::to_string(count) +
                       " bytes, found " + std::to_string(got));
    }
}

// The header numpy.save writes for a little-endian float32 C-order array of this shape:
// magic, version 1.0, HEADER_LEN, the dictionary, numpy's spare spaces and the padding.
std::string npy_header(const std::filesystem::path& file, const std::vector<std::size_t>& shape) {
    std::string dictionary =
        "{'descr': '<f4', 'fortran_order': False, 'shape': " + python_tuple(shape) + ", }";
    // NumPy 1.24 and later leave room for the first dimension to grow to 21 digits, so the
    // header can be rewritten in place when data is appended along that axis. (A size_t has
    // at most 20 digits, so there is always at least one such space.)
    if (!shape.empty()) {
        dictionary.append(npy_growth_digits - std::to_string(shape[0]).size(), ' ');
    }
    // Then spaces and a final '\n' so that 10 + HEADER_LEN is a multiple of 64. NumPy's
    // formula adds 1 to 64 spaces, never 0: a header whose '\n' would already end on the
    // boundary gets 64 more. We follow it to write the same bytes.
    const std::size_t unpadded = npy_magic_bytes + 2 + 2 + dictionary.size() + 1;
    const std::size_t padding = npy_align - unpadded % npy_align;
    const std::size_t header_length = dictionary.size() + padding + 1;  // HEADER_LEN
    if (header_length > 0xFFFF) {
        fail(file, "the shape " + python_tuple(shape) + " has too many dimensions: its header " +
                       "would be " + std::to_string(header_length) + " bytes, more than " +
                       "version 1.0 of the format can hold (65535)");
    }
    std::string header(npy_magic, npy_magic_bytes);
    header += '\x01';  // major version
    header += '\x00';  // minor version
    header += static_cast<char>(header_length & 0xFF);
    header += static_cast<char>(header_length >> 8);
    header += dictionary;
    header.append(padding, ' ');
    header += '\n';
    return header;
}

}  // namespace

void write_npy(const std::filesystem::path& file, const float* data,
               const std::vector<std::size_t>& shape) {
    std::size_t data_bytes = 0;
    if (!checked_data_bytes(shape, data_bytes)) {
        fail(file, "cannot write an array of shape " + python_tuple(shape) + ": its size in " +
                       "bytes does not fit in a size_t");
    }
    if (data == nullptr && data_bytes > 0) {
        fail(file, "cannot write an array of shape " + python_tuple(shape) + " from a null " +
                       "data pointer");
    }
    const std::string header = npy_header(file, shape);
    if (data_bytes > std::string().max_size() - header.size()) {
        fail(file, "cannot write an array of shape " + python_tuple(shape) + ": it is larger " +
                       "than the largest string this machine can hold");
    }
    std::string bytes;
    bytes.reserve(header.size() + data_bytes);
    bytes += header;
    bytes.resize(header.size() + data_bytes);
    char* out = bytes.data() + header.size();
    for (std::size_t i = 0; i < data_bytes / sizeof(float); ++i) {
        encode_little_endian(data[i], out + 4 * i);
    }
    try {
        write_file_atomically(file, bytes);
    } catch (const std::exception& error) {
        fail(file, std::string("cannot write the file: ") + error.what());
    }
}

namespace {

// The bytes of a file of `file_bytes` bytes after its first `offset` bytes: zero rather than
// a wrapped-around difference, should the file have shrunk since its size was taken.
std::uintmax_t bytes_after(std::uintmax_t file_bytes, std::uintmax_t offset) {
    return file_bytes > offset ? file_bytes - offset : 0;
}

// Reads the magic string and the version; returns the major version, 1 or 2.
unsigned read_magic_and_version(std::ifstream& in, const std::filesystem::path& file) {
    std::array<char, npy_magic_bytes + 2> preamble{};
    read_exactly(in, file, preamble.data(), preamble.size(), "magic string and version");
    if (std::memcmp(preamble.data(), npy_magic, npy_magic_bytes) != 0) {
        fail(file, "not a .npy file: expected the magic string \\x93NUMPY, found " +
                       escaped(std::string(preamble.data(), npy_magic_bytes)));
    }
    const auto major = static_cast<unsigned char>(preamble[6]);
    const auto minor = static_cast<unsigned char>(preamble[7]);
    if ((major != 1 && major != 2) || minor != 0) {
        fail(file, "expected .npy format version 1.0 or 2.0, found " + std::to_string(major) + "." +
                       std::to_string(minor) +
                       (major == 3 ? " (version 3.0's UTF-8 headers are not supported)" : ""));
    }
    return major;
}

// Reads HEADER_LEN, `length_bytes` little-endian bytes (2 in version 1.0, 4 in version 2.0).
std::size_t read_header_length(std::ifstream& in, const std::filesystem::path& file,
                               std::size_t length_bytes) {
    std::array<unsigned char, 4> length_field{};
    read_exactly(in, file, reinterpret_cast<char*>(length_field.data()), length_bytes,
                 "header length");
    std::size_t header_length = 0;
    for (std::size_t i = 0; i < length_bytes; ++i) {
        header_length |= std::size_t{length_field[i]} << (8 * i);
    }
    return header_length;
}

// Reads the header's `header_length` bytes, which follow the first `prefix_bytes` bytes of a
// file of `file_bytes` bytes, after checking that the length is sane and that they are there.
std::string read_header_text(std::ifstream& in, const std::filesystem::path& file,
                             std::size_t header_length, std::size_t prefix_bytes,
                             std::uintmax_t file_bytes) {
    if (header_length > npy_max_header_bytes) {
        fail(file, "expected a header of at most " + std::to_string(npy_max_header_bytes) +
                       " bytes (numpy.load's own limit), found a header length of " +
                       std::to_string(header_length) + "; the file is probably corrupt");
    }
    if (header_length > bytes_after(file_bytes, prefix_bytes)) {
        fail(file, "the file ends inside the header: its length field says " +
                       std::to_string(header_length) + " bytes, but only " +
                       std::to_string(bytes_after(file_bytes, prefix_bytes)) + " follow");
    }
    std::string header_text(header_length, '\0');
    read_exactly(in, file, header_text.data(), header_length, "header");
    return header_text;
}

// Fails unless the header describes what this reader provides: little-endian float32 values
// in C order.
void expect_float32_c_order(const std::filesystem::path& file, const NpyHeader& header) {
    if (header.descr != "<f4") {
        fail(file, "expected descr '<f4' (little-endian 32-bit float), found '" +
                       escaped(header.descr) + "'" + describe_descr(header.descr) +
                       "; in Python, save numpy.asarray(a, dtype='<f4') instead");
    }
    if (header.fortran_order) {
        fail(file,
             "expected 'fortran_order': False (C order, last index fastest), found True; "
             "in Python, save numpy.ascontiguousarray(a) instead");
    }
}

// The bytes of data the header's shape calls for, checked against the `data_in_file` bytes
// actually there before anything is allocated.
std::size_t expected_data_bytes(const std::filesystem::path& file, const NpyHeader& header,
                                std::uintmax_t data_in_file) {
    std::size_t data_bytes = 0;
    if (!checked_data_bytes(header.shape, data_bytes)) {
        fail(file, "the shape " + python_tuple(header.shape) + " describes more than " +
                       std::to_string(size_max) + " bytes; the header is corrupt");
    }
    if (data_in_file < data_bytes) {
        fail(file, "the file is truncated: expected " + std::to_string(data_bytes) +
                       " bytes of float32 data for shape " + python_tuple(header.shape) +
                       ", found " + std::to_string(data_in_file));
    }
    if (data_in_file > data_bytes) {
        fail(file, "expected the file to end after " + std::to_string(data_bytes) +
                       " bytes of float32 data for shape " + python_tuple(header.shape) +
                       ", found " + std::to_string(data_in_file - data_bytes) + " more (" +
                       "trailing bytes)");
    }
    return data_bytes;
}

// Reads `count` float32 values of an array of `shape`, decoded a chunk at a time, and checks
// that nothing follows them. read_exactly() still checks each chunk arrives, in case the file
// shrank since its size was taken; the final check catches a file that grew.
std::vector<float> read_float32_data(std::ifstream& in, const std::filesystem::path& file,
                                     const std::vector<std::size_t>& shape, std::size_t count) {
    std::vector<float> data(count);
    std::vector<unsigned char> chunk(chunk_values * sizeof(float));
    for (std::size_t done = 0; done < data.size();) {
        const std::size_t values = std::min(chunk_values, data.size() - done);
        read_exactly(in, file, reinterpret_cast<char*>(chunk.data()), values * sizeof(float),
                     "float32 data for shape " + python_tuple(shape));
        for (std::size_t i = 0; i < values; ++i) {
            data[done + i] = decode_little_endian(&chunk[4 * i]);
        }
        done += values;
    }
    if (in.peek() != std::char_traits<char>::eof()) {
        fail(file, "expected the file to end after the float32 data for shape " +
                       python_tuple(shape) + ", found more bytes");
    }
    return data;
}

}  // namespace

NpyArray read_npy(const std::filesystem::path& file) {
    require_regular_file(file, "a .npy file");
    std::error_code ec;
    std::ifstream in(file, std::ios::binary);
    const std::uintmax_t file_bytes = std::filesystem::file_size(file, ec);
    if (!in || ec) {
        fail(file, "cannot open the file" + (ec ? ": " + ec.message() : std::string()));
    }

    // The magic string and the version, HEADER_LEN (2 bytes in version 1.0, 4 in version 2.0),
    // then the header: each part checked before the next is read.
    const std::size_t length_bytes = read_magic_and_version(in, file) == 1 ? 2 : 4;
    const std::size_t header_length = read_header_length(in, file, length_bytes);
    const std::size_t prefix_bytes = npy_magic_bytes + 2 + length_bytes;
    const std::string header_text =
        read_header_text(in, file, header_length, prefix_bytes, file_bytes);
    const NpyHeader header = HeaderParser(file, header_text).parse();

    // The data, once the header is known to describe what this reader provides and the file
    // to hold exactly that many bytes.
    expect_float32_c_order(file, header);
    const std::size_t data_bytes =
        expected_data_bytes(file, header, bytes_after(file_bytes, prefix_bytes + header_length));
    NpyArray array;
    array.shape = header.shape;
    array.data = read_float32_data(in, file, header.shape, data_bytes / sizeof(float));
    return array;
}

}  // namespace cnn
