// Tests of support/io/checksum.hpp: SHA-256 of a file, and checking files against SHA256SUMS.
#include "support/io/checksum.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "support/io/idx.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using cnn::testing::write_text;

// SHA-256 of "abc", from FIPS 180-2, appendix B.1.
const std::string abc_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

}  // namespace

TEST_CASE("sha256_hex matches the FIPS 180-2 test vectors") {
    // The expected digests are the published ones: FIPS 180-2 (NIST, 2002), appendix B, for
    // "abc" (B.1), the 448-bit message (B.2) and one million 'a's (B.3); the empty message's
    // digest is the Len = 0 entry of NIST's CAVP SHA-256 short-message vectors
    // (SHA256ShortMsg.rsp).
    cnn::testing::TempDir dir;
    CHECK(cnn::sha256_hex(write_text(dir / "abc", "abc")) == abc_sha256);
    CHECK(cnn::sha256_hex(write_text(dir / "empty", "")) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(cnn::sha256_hex(write_text(dir / "448-bit",
                                     "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // A million bytes span many of the reader's chunks: this checks the streaming too.
    CHECK(cnn::sha256_hex(write_text(dir / "million-a", std::string(1000000, 'a'))) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_of_text gives the same digests, for text in memory") {
    CHECK(cnn::sha256_of_text("abc") == abc_sha256);  // FIPS 180-2, B.1, as above
    CHECK(cnn::sha256_of_text("") ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(cnn::sha256_of_text(std::string(1000000, 'a')) ==
          "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256_hex refuses a device or a named pipe, which it would read forever") {
    // A link to /dev/zero as a weights file once hung the loader here. /dev/null (which reads
    // as empty) comes first: before the check it gave an answer rather than a hang.
    cnn::testing::TempDir dir;
    fs::create_symlink("/dev/null", dir / "device");
    REQUIRE_THROWS_WITH_AS(cnn::sha256_hex(dir / "device"),
                           doctest::Contains("device: expected a regular file, found a "
                                             "character device"),
                           cnn::DataError);
    cnn::testing::make_fifo(dir / "pipe");
    CHECK_THROWS_WITH_AS(cnn::sha256_hex(dir / "pipe"),
                         doctest::Contains("pipe: expected a regular file, found a named pipe"),
                         cnn::DataError);
}

TEST_CASE("sha256_hex names a file it cannot read") {
    cnn::testing::TempDir dir;
    const fs::path missing = dir / "missing";
    const std::string expected = missing.string() + ": cannot open the file";
    CHECK_THROWS_WITH_AS(cnn::sha256_hex(missing), doctest::Contains(expected.c_str()),
                         cnn::DataError);
}

TEST_CASE("verify_against_sums accepts a file whose hash is listed and matches") {
    cnn::testing::TempDir dir;
    const fs::path file = write_text(dir / "abc.bin", "abc");
    // The two forms sha256sum writes: "<hash>  <name>" (text) and "<hash> *<name>" (binary);
    // upper-case hex is accepted too.
    write_text(dir / "SHA256SUMS", abc_sha256 + "  abc.bin\n");
    CHECK_NOTHROW(cnn::verify_against_sums(file));
    write_text(dir / "SHA256SUMS", "\n" + abc_sha256 + " *abc.bin\r\n");
    CHECK_NOTHROW(cnn::verify_against_sums(file));
    std::string upper = abc_sha256;
    for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    write_text(dir / "SHA256SUMS", upper + "  abc.bin\n");
    CHECK_NOTHROW(cnn::verify_against_sums(file));
}

TEST_CASE("verify_against_sums detects a mismatch, naming file, expected and found hashes") {
    cnn::testing::TempDir dir;
    const fs::path file = write_text(dir / "abc.bin", "abc");
    const std::string wrong(64, '0');
    write_text(dir / "SHA256SUMS", abc_sha256 + "  other.bin\n" + wrong + "  abc.bin\n");
    const std::string expected = file.string() + ": SHA-256 mismatch: " +
                                 (dir / "SHA256SUMS").string() + " expects " + wrong +
                                 ", found " + abc_sha256;
    CHECK_THROWS_WITH_AS(cnn::verify_against_sums(file), doctest::Contains(expected.c_str()),
                         cnn::DataError);
}

TEST_CASE("verify_against_sums has nothing to check without a list, or if the file is unlisted") {
    cnn::testing::TempDir dir;
    const fs::path file = write_text(dir / "abc.bin", "abc");
    CHECK_NOTHROW(cnn::verify_against_sums(file));  // no SHA256SUMS at all
    // Listed under another name only; a name that merely ends the same does not count.
    write_text(dir / "SHA256SUMS", std::string(64, '0') + "  xabc.bin\n");
    CHECK_NOTHROW(cnn::verify_against_sums(file));
}

TEST_CASE("verify_against_sums rejects a malformed SHA256SUMS, naming it and the line") {
    cnn::testing::TempDir dir;
    const fs::path file = write_text(dir / "abc.bin", "abc");
    write_text(dir / "SHA256SUMS", abc_sha256 + "  abc.bin\nnot a checksum line\n");
    const std::string expected =
        (dir / "SHA256SUMS").string() + ": line 2: expected '<64 hex digits>  <file name>'";
    CHECK_THROWS_WITH_AS(cnn::verify_against_sums(file), doctest::Contains(expected.c_str()),
                         cnn::DataError);
}

TEST_CASE("the committed sample's files are listed in its SHA256SUMS and match") {
    const fs::path sample = fs::path(CNN_SOURCE_DIR) / "data" / "fashion-mnist-sample";
    std::ifstream in(sample / "SHA256SUMS");
    REQUIRE(in.good());
    const std::string sums((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const std::string name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                   "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
        CAPTURE(name);
        REQUIRE(fs::exists(sample / name));
        // Listed (so verify_against_sums really compares), and the hash agrees.
        CHECK(sums.find(cnn::sha256_hex(sample / name) + "  " + name + "\n") != std::string::npos);
        CHECK_NOTHROW(cnn::verify_against_sums(sample / name));
    }
}
