#include "support/io/idx.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <zlib.h>

namespace cnn {

namespace {

// Bytes requested from zlib per call while reading the payload. The vector holding the data
// grows one chunk at a time, only as far as bytes actually arrive.
constexpr std::size_t chunk_bytes = std::size_t{1} << 20;  // 1 MiB

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
    throw DataError(file.string() + ": " + what);
}

// Closes a gzFile when it goes out of scope, on every path out of read_idx().
struct GzClose {
    void operator()(gzFile_s* gz) const { gzclose(gz); }
};
using GzFile = std::unique_ptr<gzFile_s, GzClose>;

// zlib's last error message for `gz`. zlib prefixes it with the path it was given, which our
// own message already starts with, so that prefix is dropped.
std::string zlib_message(gzFile gz, const std::filesystem::path& file) {
    int code = Z_OK;
    std::string message = gzerror(gz, &code);
    const std::string prefix = file.string() + ": ";
    if (message.compare(0, prefix.size(), prefix) == 0) {
        message.erase(0, prefix.size());
    }
    return message;
}

// True if zlib saw the compressed input end before the gzip stream did (a truncated .gz).
// zlib still hands out the bytes it could decompress and reports this as Z_BUF_ERROR.
bool gzip_ended_early(gzFile gz) {
    int code = Z_OK;
    gzerror(gz, &code);
    return code == Z_BUF_ERROR;
}

// Reads up to `count` bytes into `destination`; fewer means the data ended. Throws on a read
// error or a corrupt gzip stream (bad code, bad CRC), for which gzread() returns -1.
std::size_t read_up_to(gzFile gz, const std::filesystem::path& file, std::uint8_t* destination,
                       std::size_t count) {
    const int got = gzread(gz, destination, static_cast<unsigned>(count));
    if (got < 0) {
        int code = Z_OK;
        gzerror(gz, &code);
        const char* what = code == Z_ERRNO ? "cannot read the file: " : "corrupt gzip stream: ";
        fail(file, what + zlib_message(gz, file));
    }
    return static_cast<std::size_t>(got);
}

// Appended to a "found fewer bytes" message when the cause is a cut-off gzip stream.
std::string truncation_note(gzFile gz, const std::filesystem::path& file) {
    return gzip_ended_early(gz) ? " (the gzip stream ends early: " + zlib_message(gz, file) + ")"
                                : "";
}

// The names of the IDX type codes, for a clear "unsupported" message.
const char* idx_type_name(std::uint8_t code) {
    switch (code) {
        case 0x08:
            return "unsigned byte";
        case 0x09:
            return "signed byte";
        case 0x0B:
            return "16-bit integer";
        case 0x0C:
            return "32-bit integer";
        case 0x0D:
            return "32-bit float";
        case 0x0E:
            return "64-bit float";
        default:
            return nullptr;
    }
}

std::string hex_byte(std::uint8_t value) {
    char text[8];
    std::snprintf(text, sizeof text, "0x%02X", static_cast<unsigned>(value));
    return text;
}

// In MNIST-style data a rank-1 array holds labels and a rank-3 array images; saying which
// makes the messages concrete ("pixel data" rather than "data").
std::string rank_hint(std::size_t rank) {
    return rank == 1 ? " (labels)" : rank == 3 ? " (images)" : "";
}
std::string payload_name(std::size_t rank) {
    return rank == 1 ? "label data" : rank == 3 ? "pixel data" : "data";
}

std::string dims_to_string(const std::vector<std::size_t>& dims) {
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        text += (i == 0 ? "" : " x ") + std::to_string(dims[i]);
    }
    return text;
}

// Opens `file` for reading through zlib, gzipped or raw.
GzFile open_idx(const std::filesystem::path& file) {
    errno = 0;
    GzFile gz(gzopen(file.string().c_str(), "rb"));
    if (!gz) {
        fail(file, std::string("cannot open the file: ") +
                       (errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(gz.get(), 128 * 1024);  // fewer, larger reads than zlib's default 8 KiB
    return gz;
}

// Reads and checks the fixed part of the header: two zero bytes, the type code (unsigned
// byte), the rank (`expected_rank`).
void read_magic(gzFile gz, const std::filesystem::path& file, std::size_t expected_rank) {
    std::array<std::uint8_t, 4> magic{};
    const std::size_t magic_got = read_up_to(gz, file, magic.data(), magic.size());
    if (magic_got < magic.size()) {
        fail(file, "expected a 4-byte IDX magic number, found only " + std::to_string(magic_got) +
                       " bytes" + truncation_note(gz, file));
    }
    if (magic[0] != 0 || magic[1] != 0) {
        fail(file, "not an IDX file: expected the first two bytes to be 0x00 0x00, found " +
                       hex_byte(magic[0]) + " " + hex_byte(magic[1]));
    }
    if (magic[2] != 0x08) {
        const char* name = idx_type_name(magic[2]);
        fail(file, "expected IDX type code 0x08 (unsigned byte), found " + hex_byte(magic[2]) +
                       (name != nullptr ? std::string(" (") + name + "), which is not supported"
                                        : std::string(", which is not an IDX type code")));
    }
    const std::size_t rank = magic[3];
    if (rank != expected_rank) {
        fail(file, "expected an IDX array of rank " + std::to_string(expected_rank) +
                       rank_hint(expected_rank) + ", found rank " + std::to_string(rank) +
                       rank_hint(rank));
    }
}

// Reads the dimensions, `rank` big-endian 32-bit unsigned integers, none of which may be 0.
std::vector<std::size_t> read_dimensions(gzFile gz, const std::filesystem::path& file,
                                         std::size_t rank) {
    std::vector<std::uint8_t> dim_bytes(4 * rank);
    const std::size_t dims_got = read_up_to(gz, file, dim_bytes.data(), dim_bytes.size());
    if (dims_got < dim_bytes.size()) {
        fail(file, "expected " + std::to_string(dim_bytes.size()) + " bytes of dimensions after " +
                       "the magic number, found " + std::to_string(dims_got) +
                       truncation_note(gz, file));
    }
    std::vector<std::size_t> dims(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::uint8_t* b = &dim_bytes[4 * i];
        dims[i] = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) |
                  std::size_t{b[3]};
        if (dims[i] == 0) {
            fail(file, "dimension " + std::to_string(i) + " is 0; expected every dimension to " +
                           "be at least 1 (dimensions " + dims_to_string(dims) + ")");
        }
    }
    return dims;
}

// The payload size, the product of the dimensions. Each step checks `count * dim <= limit`
// as `dim <= limit / count`, so the product never overflows and never exceeds the limit: a
// corrupt header is refused before any memory is touched.
std::size_t payload_bytes(const std::filesystem::path& file, const std::vector<std::size_t>& dims) {
    std::size_t count = 1;
    for (std::size_t dim : dims) {
        if (dim > idx_max_payload_bytes / count) {
            fail(file, "the dimensions " + dims_to_string(dims) + " describe more than " +
                           std::to_string(idx_max_payload_bytes) + " bytes, the reader's limit " +
                           "(1 GiB); the header is probably corrupt");
        }
        count *= dim;
    }
    return count;
}

// Reads the payload of `array`, `count` bytes, a chunk at a time. The vector grows only as
// bytes arrive, so a header that claims more than the file holds costs no more memory than
// the file itself.
void read_payload(gzFile gz, const std::filesystem::path& file, std::size_t count,
                  IdxArray& array) {
    while (array.data.size() < count) {
        const std::size_t have = array.data.size();
        const std::size_t want = std::min(chunk_bytes, count - have);
        array.data.resize(have + want);
        const std::size_t got = read_up_to(gz, file, array.data.data() + have, want);
        array.data.resize(have + got);
        if (got < want) {
            fail(file, "expected " + std::to_string(count) + " bytes of " +
                           payload_name(array.dims.size()) + " after the header, found " +
                           std::to_string(array.data.size()) + " (dimensions " +
                           dims_to_string(array.dims) + ")" + truncation_note(gz, file));
        }
    }
}

// Fails unless the file ends right after the payload of `array`: extra bytes mean the header
// and the data disagree. Counts them all (the count is bounded by the file's real size) so
// the message can say how many.
void expect_end(gzFile gz, const std::filesystem::path& file, const IdxArray& array) {
    std::array<std::uint8_t, 64 * 1024> scratch;
    std::size_t extra = 0;
    for (;;) {
        const std::size_t got = read_up_to(gz, file, scratch.data(), scratch.size());
        extra += got;
        if (got < scratch.size()) {
            break;
        }
    }
    if (extra > 0) {
        fail(file, "expected the file to end after " + std::to_string(array.data.size()) +
                       " bytes of " + payload_name(array.dims.size()) + ", found " +
                       std::to_string(extra) + " trailing bytes (dimensions " +
                       dims_to_string(array.dims) + ")");
    }
    // All the data arrived, but a gzip stream cut off in its 8-byte trailer (CRC and length)
    // cannot be verified: treat it as the truncated file it is.
    if (gzip_ended_early(gz)) {
        fail(file, "the gzip stream ends early, so its checksum cannot be verified: " +
                       zlib_message(gz, file));
    }
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& file, std::size_t expected_rank) {
    if (expected_rank == 0) {
        fail(file, "read_idx was asked for rank 0; IDX arrays have rank 1 or more");
    }
    const GzFile gz = open_idx(file);
    read_magic(gz.get(), file, expected_rank);
    IdxArray array;
    array.dims = read_dimensions(gz.get(), file, expected_rank);
    read_payload(gz.get(), file, payload_bytes(file, array.dims), array);
    expect_end(gz.get(), file, array);
    return array;
}

}  // namespace cnn
