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

// Bytes read from the file per call (compressed bytes, for a .gz).
constexpr std::size_t input_bytes = std::size_t{128} << 10;  // 128 KiB

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
    throw DataError(file.string() + ": " + what);
}

// Reads a file's bytes, gunzipping them when the file starts with the gzip signature (1F 8B,
// RFC 1952) and passing them through unchanged otherwise, so `.gz` and raw files read alike.
//
// zlib's gzread() does the same, but it can report the end of the data without having
// checked the gzip trailer (the CRC-32 and length of the data): it decompresses a large read
// straight into the caller's buffer, may stop there with the whole file consumed and the
// trailer unread, and then calls a file cut in its last 8 bytes a clean end. This reader runs
// inflate() itself and calls the data complete only at Z_STREAM_END, which zlib returns
// after it has checked the trailer.
//
// The z_stream points into itself, so a ByteReader stays where it was built (no copy, no move).
class ByteReader {
public:
    explicit ByteReader(const std::filesystem::path& file);
    ~ByteReader();
    ByteReader(const ByteReader&) = delete;
    ByteReader& operator=(const ByteReader&) = delete;

    // Reads up to `count` bytes into `destination`; fewer means the data ended (or, if
    // ended_early(), that the file was cut). Throws DataError on a read error or a corrupt
    // gzip stream (bad code, bad CRC, bad length).
    std::size_t read(std::uint8_t* destination, std::size_t count);

    // True if the file ended before its gzip stream did: a truncated .gz.
    bool ended_early() const { return ended_early_; }

private:
    bool refill();
    std::size_t copy_into(std::uint8_t* destination, std::size_t count);
    std::size_t inflate_into(std::uint8_t* destination, std::size_t count);

    std::filesystem::path path_;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, std::fclose};
    std::vector<std::uint8_t> input_ = std::vector<std::uint8_t>(input_bytes);
    z_stream stream_{};          // next_in/avail_in: the unread part of input_, in both modes
    bool gzip_ = false;          // inflating (else copying)
    bool member_ended_ = false;  // inflate() returned Z_STREAM_END: the trailer checked out
    bool ended_early_ = false;
};

ByteReader::ByteReader(const std::filesystem::path& file) : path_(file) {
    require_regular_file(file);  // a named pipe would block the open, a device never end
    errno = 0;
    file_.reset(std::fopen(file.string().c_str(), "rb"));
    if (!file_) {
        fail(file, std::string("cannot open the file: ") +
                       (errno != 0 ? std::strerror(errno) : "out of memory"));
    }
    refill();
    gzip_ = stream_.avail_in >= 2 && input_[0] == 0x1F && input_[1] == 0x8B;
    // 16 + MAX_WBITS: a gzip stream (header and trailer checked), with the largest window.
    if (gzip_ && inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) {
        gzip_ = false;  // nothing for the destructor to end
        fail(file, "cannot start zlib's decompressor: out of memory");
    }
}

ByteReader::~ByteReader() {
    if (gzip_) {
        inflateEnd(&stream_);
    }
}

// Makes sure unread input is waiting, reading the next block of the file once the last one
// is used up. False at the end of the file.
bool ByteReader::refill() {
    if (stream_.avail_in > 0) {
        return true;
    }
    errno = 0;
    const std::size_t got = std::fread(input_.data(), 1, input_.size(), file_.get());
    if (got == 0 && std::ferror(file_.get())) {
        fail(path_, std::string("cannot read the file: ") +
                        (errno != 0 ? std::strerror(errno) : "read error"));
    }
    stream_.next_in = input_.data();
    stream_.avail_in = static_cast<uInt>(got);
    return got > 0;
}

std::size_t ByteReader::read(std::uint8_t* destination, std::size_t count) {
    return gzip_ ? inflate_into(destination, count) : copy_into(destination, count);
}

std::size_t ByteReader::copy_into(std::uint8_t* destination, std::size_t count) {
    std::size_t done = 0;
    while (done < count && refill()) {
        const std::size_t n = std::min<std::size_t>(count - done, stream_.avail_in);
        std::memcpy(destination + done, stream_.next_in, n);
        stream_.next_in += n;
        stream_.avail_in -= static_cast<uInt>(n);
        done += n;
    }
    return done;
}

std::size_t ByteReader::inflate_into(std::uint8_t* destination, std::size_t count) {
    stream_.next_out = destination;
    stream_.avail_out = static_cast<uInt>(count);  // count is at most chunk_bytes
    while (stream_.avail_out > 0) {
        if (member_ended_) {
            // The clean end, or the next member of a gzip file made of several (`cat a.gz
            // b.gz`); bytes that are not one make inflate() report a bad header.
            if (!refill()) {
                break;
            }
            inflateReset(&stream_);
            member_ended_ = false;
        }
        if (!refill()) {
            ended_early_ = true;  // the file ends inside the stream, perhaps in its trailer
            break;
        }
        const int code = inflate(&stream_, Z_NO_FLUSH);
        if (code == Z_STREAM_END) {
            member_ended_ = true;
        } else if (code == Z_MEM_ERROR) {
            fail(path_, "out of memory while decompressing");
        } else if (code != Z_OK) {
            fail(path_, std::string("corrupt gzip stream: ") +
                            (stream_.msg != nullptr ? stream_.msg : zError(code)));
        }
    }
    return count - stream_.avail_out;
}

// Appended to a "found fewer bytes" message when the cause is a cut-off gzip stream.
std::string truncation_note(const ByteReader& reader) {
    return reader.ended_early() ? " (the gzip stream ends early: the file is cut short)" : "";
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

// Reads and checks the fixed part of the header: two zero bytes, the type code (unsigned
// byte), the rank (`expected_rank`).
void read_magic(ByteReader& reader, const std::filesystem::path& file, std::size_t expected_rank) {
    std::array<std::uint8_t, 4> magic{};
    const std::size_t magic_got = reader.read(magic.data(), magic.size());
    if (magic_got < magic.size()) {
        fail(file, "expected a 4-byte IDX magic number, found only " + std::to_string(magic_got) +
                       " bytes" + truncation_note(reader));
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
std::vector<std::size_t> read_dimensions(ByteReader& reader, const std::filesystem::path& file,
                                         std::size_t rank) {
    std::vector<std::uint8_t> dim_bytes(4 * rank);
    const std::size_t dims_got = reader.read(dim_bytes.data(), dim_bytes.size());
    if (dims_got < dim_bytes.size()) {
        fail(file, "expected " + std::to_string(dim_bytes.size()) + " bytes of dimensions after " +
                       "the magic number, found " + std::to_string(dims_got) +
                       truncation_note(reader));
    }
    std::vector<std::size_t> dims(rank);
    for (std::size_t i = 0; i < rank; ++i) {
        const std::uint8_t* b = &dim_bytes[4 * i];
        dims[i] = (std::size_t{b[0]} << 24) | (std::size_t{b[1]} << 16) | (std::size_t{b[2]} << 8) |
                  std::size_t{b[3]};
    }
    // Checked once all are known, so that the message shows the header's dimensions in full.
    for (std::size_t i = 0; i < rank; ++i) {
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
void read_payload(ByteReader& reader, const std::filesystem::path& file, std::size_t count,
                  IdxArray& array) {
    while (array.data.size() < count) {
        const std::size_t have = array.data.size();
        const std::size_t want = std::min(chunk_bytes, count - have);
        array.data.resize(have + want);
        const std::size_t got = reader.read(array.data.data() + have, want);
        array.data.resize(have + got);
        if (got < want) {
            fail(file, "expected " + std::to_string(count) + " bytes of " +
                           payload_name(array.dims.size()) + " after the header, found " +
                           std::to_string(array.data.size()) + " (dimensions " +
                           dims_to_string(array.dims) + ")" + truncation_note(reader));
        }
    }
}

// Fails unless the file ends right after the payload of `array`: extra bytes mean the header
// and the data disagree. Counts them all (the count is bounded by the file's real size) so
// the message can say how many.
void expect_end(ByteReader& reader, const std::filesystem::path& file, const IdxArray& array) {
    std::array<std::uint8_t, 64 * 1024> scratch;
    std::size_t extra = 0;
    for (;;) {
        const std::size_t got = reader.read(scratch.data(), scratch.size());
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
    if (reader.ended_early()) {
        fail(file,
             "the gzip stream ends early, so its checksum cannot be verified: expected "
             "the 8-byte gzip trailer (CRC-32 and length) after the data, found the end "
             "of the file");
    }
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& file, std::size_t expected_rank) {
    if (expected_rank == 0) {
        fail(file, "read_idx was asked for rank 0; IDX arrays have rank 1 or more");
    }
    ByteReader reader(file);
    read_magic(reader, file, expected_rank);
    IdxArray array;
    array.dims = read_dimensions(reader, file, expected_rank);
    read_payload(reader, file, payload_bytes(file, array.dims), array);
    expect_end(reader, file, array);
    return array;
}

}  // namespace cnn
