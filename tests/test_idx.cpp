// Tests of support/io/idx.hpp: reading IDX files, and refusing every kind of broken one.
//
// Each test writes its own small IDX file into a fresh temporary directory, byte by byte as
// the format describes it (see the table in idx.hpp), so the expected dims and bytes come
// from the format's definition, not from the reader under test.
#include "support/io/idx.hpp"
#include "idx_files.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <zlib.h>

// The address-space test below needs Linux's setrlimit(), and cannot run under
// AddressSanitizer, which reserves terabytes of address space and aborts on a failed allocation.
#if defined(__SANITIZE_ADDRESS__)
#define CNN_TEST_ADDRESS_LIMIT 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CNN_TEST_ADDRESS_LIMIT 0
#endif
#endif
#if !defined(CNN_TEST_ADDRESS_LIMIT) && defined(__linux__)
#define CNN_TEST_ADDRESS_LIMIT 1
#elif !defined(CNN_TEST_ADDRESS_LIMIT)
#define CNN_TEST_ADDRESS_LIMIT 0
#endif

#if CNN_TEST_ADDRESS_LIMIT
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace fs = std::filesystem;
using cnn::testing::data_error_of;
using cnn::testing::Bytes;
using cnn::testing::idx_header;
using cnn::testing::write_gz;
using cnn::testing::write_raw;

namespace {

Bytes concat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Bytes 0, 1, 2, ... (mod 256).
Bytes counting_bytes(std::size_t count) {
    Bytes bytes(count);
    for (std::size_t i = 0; i < count; ++i) {
        bytes[i] = static_cast<std::uint8_t>(i);
    }
    return bytes;
}

Bytes read_raw(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}


#if CNN_TEST_ADDRESS_LIMIT
// Lowers the process's address-space limit to what it maps now plus `headroom` bytes, and
// restores the old limit when it goes out of scope. Under it, an allocation of more than
// `headroom` fails with std::bad_alloc instead of quietly reserving memory.
class AddressSpaceLimit {
public:
    explicit AddressSpaceLimit(std::size_t headroom) {
        std::size_t pages = 0;
        std::ifstream("/proc/self/statm") >> pages;  // first field: virtual size in pages
        const auto page_size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        if (pages == 0 || getrlimit(RLIMIT_AS, &saved_) != 0) {
            return;
        }
        rlimit lowered = saved_;
        const rlim_t wanted = pages * page_size + headroom;
        if (lowered.rlim_cur == RLIM_INFINITY || lowered.rlim_cur > wanted) {
            lowered.rlim_cur = wanted;
        }
        active_ = setrlimit(RLIMIT_AS, &lowered) == 0;
    }
    ~AddressSpaceLimit() {
        if (active_) {
            setrlimit(RLIMIT_AS, &saved_);
        }
    }
    AddressSpaceLimit(const AddressSpaceLimit&) = delete;
    AddressSpaceLimit& operator=(const AddressSpaceLimit&) = delete;
    bool active() const { return active_; }

private:
    rlimit saved_{};
    bool active_ = false;
};
#endif

}  // namespace

TEST_CASE("read_idx reads a raw IDX file: its dims and its bytes in order") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "tiny-images-idx3-ubyte";
    write_raw(file, concat(idx_header(0x08, {2, 3, 4}), counting_bytes(24)));

    const cnn::IdxArray array = cnn::read_idx(file, 3);
    CHECK(array.dims == std::vector<std::size_t>{2, 3, 4});
    CHECK(array.data == counting_bytes(24));
}

TEST_CASE("read_idx reads a gzipped IDX file the same way") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "tiny-labels-idx1-ubyte.gz";
    const Bytes labels = {9, 0, 0, 3, 0, 2, 7};  // any values will do
    write_gz(file, concat(idx_header(0x08, {7}), labels));
    const Bytes on_disk = read_raw(file);
    REQUIRE(on_disk.size() > 2);
    REQUIRE((on_disk[0] == 0x1F && on_disk[1] == 0x8B));  // the gzip signature (RFC 1952)

    const cnn::IdxArray array = cnn::read_idx(file, 1);
    CHECK(array.dims == std::vector<std::size_t>{7});
    CHECK(array.data == labels);
}

TEST_CASE("read_idx rejects a file whose first two bytes are not zero") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "not-idx";
    write_raw(file, concat({'P', 'K', 0x08, 0x01, 0, 0, 0, 1}, {5}));
    CHECK_THROWS_WITH_AS(cnn::read_idx(file, 1),
                         doctest::Contains("not an IDX file: expected the first two bytes to be "
                                           "0x00 0x00, found 0x50 0x4B"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a type code other than unsigned byte, naming the type") {
    cnn::testing::TempDir dir;
    const fs::path floats = dir / "floats";
    write_raw(floats, concat(idx_header(0x0D, {1}), {0, 0, 0, 0}));
    CHECK_THROWS_WITH_AS(cnn::read_idx(floats, 1),
                         doctest::Contains("expected IDX type code 0x08 (unsigned byte), found "
                                           "0x0D (32-bit float), which is not supported"),
                         cnn::DataError);
    const fs::path nonsense = dir / "nonsense";
    write_raw(nonsense, concat(idx_header(0x42, {1}), {0}));
    CHECK_THROWS_WITH_AS(cnn::read_idx(nonsense, 1),
                         doctest::Contains("found 0x42, which is not an IDX type code"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a file of another rank than expected") {
    cnn::testing::TempDir dir;
    const fs::path labels = dir / "labels";
    write_raw(labels, concat(idx_header(0x08, {3}), {1, 2, 3}));
    CHECK_THROWS_WITH_AS(cnn::read_idx(labels, 3),
                         doctest::Contains("expected an IDX array of rank 3 (images), found rank 1 "
                                           "(labels)"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a zero dimension") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "empty-rows";
    write_raw(file, idx_header(0x08, {4000, 0, 28}));
    // The message shows every dimension as the header gives it, those after the zero too.
    CHECK_THROWS_WITH_AS(cnn::read_idx(file, 3),
                         doctest::Contains("dimension 1 is 0; expected every dimension to be at "
                                           "least 1 (dimensions 4000 x 0 x 28)"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a file that ends inside the header") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "short-header";
    const Bytes header = idx_header(0x08, {2, 3, 4});
    write_raw(file, Bytes(header.begin(), header.begin() + 9));  // magic + 5 of 12 dim bytes
    CHECK_THROWS_WITH_AS(cnn::read_idx(file, 3),
                         doctest::Contains("expected 12 bytes of dimensions after the magic "
                                           "number, found 5"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a truncated payload, saying how many bytes it expected and found") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "truncated";
    write_raw(file, concat(idx_header(0x08, {2, 2, 2}), counting_bytes(5)));
    CHECK_THROWS_WITH_AS(cnn::read_idx(file, 3),
                         doctest::Contains("expected 8 bytes of pixel data after the header, "
                                           "found 5 (dimensions 2 x 2 x 2)"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects bytes after the payload") {
    cnn::testing::TempDir dir;
    const fs::path file = dir / "trailing";
    write_raw(file, concat(idx_header(0x08, {4}), counting_bytes(7)));
    CHECK_THROWS_WITH_AS(cnn::read_idx(file, 1),
                         doctest::Contains("expected the file to end after 4 bytes of label "
                                           "data, found 3 trailing bytes"),
                         cnn::DataError);
}

TEST_CASE("read_idx refuses absurd dimensions before allocating anything") {
    cnn::testing::TempDir dir;
    // 2^31 x 2^31 x 1 = 2^62 bytes: fits in 64 bits but far above the 1 GiB limit.
    const fs::path huge = dir / "huge";
    write_raw(huge, concat(idx_header(0x08, {1u << 31, 1u << 31, 1}), counting_bytes(16)));
    CHECK_THROWS_WITH_AS(cnn::read_idx(huge, 3),
                         doctest::Contains("the dimensions 2147483648 x 2147483648 x 1 describe "
                                           "more than 1073741824 bytes"),
                         cnn::DataError);
    // (2^32 - 1)^3 overflows 64 bits: the product must be checked before it is formed.
    const fs::path overflow = dir / "overflow";
    write_raw(overflow, idx_header(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
    CHECK_THROWS_WITH_AS(cnn::read_idx(overflow, 3),
                         doctest::Contains("describe more than 1073741824 bytes"), cnn::DataError);
}

TEST_CASE("read_idx allocates only as bytes arrive, whatever size the header claims") {
    // 1000 x 1000 x 1000 = 10^9 bytes is under the 1 GiB limit, but the file holds 4 bytes.
    // A reader that trusted the header would allocate a gigabyte before finding out.
    cnn::testing::TempDir dir;
    const fs::path file = dir / "liar";
    write_raw(file, concat(idx_header(0x08, {1000, 1000, 1000}), counting_bytes(4)));
#if CNN_TEST_ADDRESS_LIMIT
    // Make such an allocation fail loudly: with 256 MiB of address space to spare, a 10^9-byte
    // vector throws std::bad_alloc (checked first, so this test can fail), and the reader must
    // still report the short file.
    AddressSpaceLimit limit(std::size_t{256} << 20);
    if (limit.active()) {
        CHECK_THROWS_AS(Bytes(1'000'000'000), std::bad_alloc);
    } else {
        MESSAGE("could not lower RLIMIT_AS; checking the message only");
    }
#else
    MESSAGE("no address-space limit here (not Linux, or AddressSanitizer); checking the "
            "message only");
#endif
    CHECK_THROWS_WITH_AS(cnn::read_idx(file, 3),
                         doctest::Contains("expected 1000000000 bytes of pixel data after the "
                                           "header, found 4"),
                         cnn::DataError);
}

TEST_CASE("read_idx names the path of a file it cannot open") {
    cnn::testing::TempDir dir;
    const fs::path missing = dir / "no-such-file.gz";
    const std::string expected = missing.string() + ": cannot open the file: ";
    CHECK_THROWS_WITH_AS(cnn::read_idx(missing, 1), doctest::Contains(expected.c_str()),
                         cnn::DataError);
}

TEST_CASE("read_idx refuses a device or a named pipe instead of opening it") {
    cnn::testing::TempDir dir;
    fs::create_symlink("/dev/zero", dir / "zeros");
    REQUIRE_THROWS_WITH_AS(cnn::read_idx(dir / "zeros", 3),
                           doctest::Contains("zeros: expected a regular file, found a character "
                                             "device"),
                           cnn::DataError);
    cnn::testing::make_fifo(dir / "pipe");  // opening it to read would wait for a writer
    CHECK_THROWS_WITH_AS(cnn::read_idx(dir / "pipe", 3),
                         doctest::Contains("pipe: expected a regular file, found a named pipe"),
                         cnn::DataError);
}

TEST_CASE("read_idx reports a corrupt gzip stream with zlib's message") {
    cnn::testing::TempDir dir;
    // The gzip signature and method (1F 8B 08, RFC 1952), then bytes that are not deflate data.
    const fs::path garbage = dir / "garbage.gz";
    write_raw(garbage, {0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
    CHECK_THROWS_WITH_AS(cnn::read_idx(garbage, 1), doctest::Contains("corrupt gzip stream: "),
                         cnn::DataError);

    // A valid stream whose stored CRC-32 (the 8th-to-last byte onward) has been altered.
    const fs::path bad_crc = dir / "bad-crc.gz";
    write_gz(bad_crc, concat(idx_header(0x08, {3}), {1, 2, 3}));
    Bytes bytes = read_raw(bad_crc);
    bytes[bytes.size() - 8] ^= 0xFF;
    write_raw(bad_crc, bytes);
    CHECK_THROWS_WITH_AS(cnn::read_idx(bad_crc, 1),
                         doctest::Contains("corrupt gzip stream: incorrect data check"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a gzip file that was cut short") {
    cnn::testing::TempDir dir;
    const Bytes content = concat(idx_header(0x08, {2, 100, 100}), counting_bytes(20000));
    const fs::path complete = dir / "complete.gz";
    write_gz(complete, content);
    const Bytes bytes = read_raw(complete);

    // Cut in the middle of the compressed data: part of the pixels never arrive.
    const fs::path half = dir / "half.gz";
    write_raw(half, Bytes(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2)));
    CHECK_THROWS_WITH_AS(cnn::read_idx(half, 3),
                         doctest::Contains("expected 20000 bytes of pixel data after the header"),
                         cnn::DataError);
    CHECK_THROWS_WITH_AS(cnn::read_idx(half, 3), doctest::Contains("the gzip stream ends early"),
                         cnn::DataError);

    // Cut inside the 8-byte trailer: every pixel arrives, but the CRC cannot be checked.
    const fs::path no_trailer = dir / "no-trailer.gz";
    write_raw(no_trailer, Bytes(bytes.begin(), bytes.end() - 4));
    CHECK_THROWS_WITH_AS(cnn::read_idx(no_trailer, 3),
                         doctest::Contains("the gzip stream ends early, so its checksum cannot be "
                                           "verified"),
                         cnn::DataError);
}

TEST_CASE("read_idx rejects a large gzip file whose trailer is missing") {
    // Large reads are where zlib's own gzread() once let such a file through: it decompresses
    // a read of 256 KiB or more straight into the caller's buffer, can stop with the whole file
    // consumed but the trailer (CRC-32 and length) unread, and the next read then reports a
    // clean end. The committed sample's training images (3 MB of pixels) are the case the
    // hostile test found on Debian's full file; a megabyte of random bytes is another shape of
    // stream (stored blocks, not Huffman-coded ones).
    cnn::testing::TempDir dir;
    const fs::path sample =
        fs::path(CNN_SOURCE_DIR) / "data" / "fashion-mnist-sample" / "train-images-idx3-ubyte.gz";
    std::mt19937 random(22);
    Bytes noise(1 << 20);
    for (std::uint8_t& byte : noise) {
        byte = static_cast<std::uint8_t>(random());
    }
    write_gz(dir / "noise.gz", concat(idx_header(0x08, {16, 256, 256}), noise));
    for (const fs::path& complete : {sample, dir / "noise.gz"}) {
        const Bytes bytes = read_raw(complete);
        REQUIRE(bytes.size() > 8);
        const std::size_t rank = 3;
        REQUIRE_NOTHROW(cnn::read_idx(complete, rank));
        for (std::size_t cut = 1; cut <= 8; ++cut) {  // every length of a cut into the trailer
            CAPTURE(complete);
            CAPTURE(cut);
            const fs::path file = dir / "cut.gz";
            write_raw(file, Bytes(bytes.begin(), bytes.end() - static_cast<long>(cut)));
            CHECK_THROWS_WITH_AS(cnn::read_idx(file, rank),
                                 doctest::Contains("the gzip stream ends early"), cnn::DataError);
        }
    }
}

TEST_CASE("every read_idx error message starts with the file's path") {
    cnn::testing::TempDir dir;
    const std::vector<std::pair<std::string, Bytes>> broken = {
        {"empty", {}},
        {"bad-magic", {1, 2, 8, 1, 0, 0, 0, 1, 0}},
        {"bad-type", concat(idx_header(0x0C, {1}), {0, 0, 0, 0})},
        {"bad-rank", concat(idx_header(0x08, {1, 1}), {0})},
        {"truncated", concat(idx_header(0x08, {9}), {0})},
        {"trailing", concat(idx_header(0x08, {1}), {0, 0})},
    };
    for (const auto& example : broken) {
        const std::string& name = example.first;
        CAPTURE(name);
        const fs::path file = dir / name;
        write_raw(file, example.second);
        const std::string message = data_error_of([&] { cnn::read_idx(file, 1); });
        CHECK(message.rfind(file.string() + ": ", 0) == 0);
    }
}

TEST_CASE("every input of the fuzz corpus reads, or fails with a DataError naming the file") {
    // tests/fuzz/corpus/idx holds the fuzzer's seeds and any input that once crashed the
    // reader (make fuzz); here they run in every build, sanitized ones included.
    const fs::path corpus = fs::path(CNN_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "idx";
    std::size_t inputs = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
        const fs::path file = entry.path();
        CAPTURE(file);
        ++inputs;
        for (std::size_t rank : {1, 3}) {
            try {
                const cnn::IdxArray array = cnn::read_idx(file, rank);
                CHECK(array.dims.size() == rank);
            } catch (const cnn::DataError& error) {
                CHECK(std::string(error.what()).rfind(file.string() + ": ", 0) == 0);
            }
        }
    }
    CHECK(inputs >= 5);
}
