#include "support/io/checksum.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

#include <openssl/evp.h>

#include "support/io/data_error.hpp"

namespace cnn {

namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
    throw DataError(file.string() + ": " + what);
}

// Frees an OpenSSL digest context on every path out of sha256_hex().
struct DigestContextFree {
    void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

bool is_hex_digit(char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

std::string to_lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// The finished digest of `context` as lower-case hexadecimal digits; "" if OpenSSL fails.
std::string finish_hex(EVP_MD_CTX* context) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context, digest, &length) != 1) {
        return "";
    }
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
        hex += digits[digest[i] >> 4];
        hex += digits[digest[i] & 0x0F];
    }
    return hex;
}

}  // namespace

std::string sha256_hex(const std::filesystem::path& file) {
    require_regular_file(file);  // a named pipe would block the open, a device never end
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        fail(file, "cannot open the file to compute its SHA-256");
    }
    std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(EVP_MD_CTX_new());
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1) {
        fail(file, "OpenSSL could not start a SHA-256 digest");
    }
    std::vector<char> chunk(1 << 16);
    while (in) {
        in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        const std::streamsize got = in.gcount();
        if (got > 0 &&
            EVP_DigestUpdate(context.get(), chunk.data(), static_cast<std::size_t>(got)) != 1) {
            fail(file, "OpenSSL could not update the SHA-256 digest");
        }
    }
    if (in.bad()) {  // eof (with fail) is the normal end; bad is a read error
        fail(file, "read error while computing its SHA-256");
    }
    const std::string hex = finish_hex(context.get());
    if (hex.empty()) {
        fail(file, "OpenSSL could not finish the SHA-256 digest");
    }
    return hex;
}

std::string sha256_of_text(const std::string& text) {
    std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(EVP_MD_CTX_new());
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1) {
        throw std::runtime_error("sha256_of_text: OpenSSL could not compute a SHA-256 digest");
    }
    const std::string hex = finish_hex(context.get());
    if (hex.empty()) {
        throw std::runtime_error("sha256_of_text: OpenSSL could not finish the SHA-256 digest");
    }
    return hex;
}

void verify_against_sums(const std::filesystem::path& file) {
    const std::filesystem::path directory =
        file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
    const std::filesystem::path sums = directory / "SHA256SUMS";
    if (!std::filesystem::exists(sums)) {
        return;  // nothing to check against
    }
    if (!std::filesystem::is_regular_file(sums)) {
        fail(sums, "expected a checksum list file, found something else (a directory?)");
    }
    std::ifstream in(sums);
    if (!in) {
        fail(sums, "cannot open the checksum list");
    }
    const std::string name = file.filename().string();
    std::string found;  // computed once, on the first line that lists the file
    std::string line;
    for (std::size_t line_number = 1; std::getline(in, line); ++line_number) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();  // a list written on Windows
        }
        if (line.empty()) {
            continue;
        }
        // `<64 hex digits><space><space or '*'><name>`, as sha256sum writes it.
        const bool well_formed = line.size() > 66 &&
                                 std::all_of(line.begin(), line.begin() + 64, is_hex_digit) &&
                                 line[64] == ' ' && (line[65] == ' ' || line[65] == '*');
        if (!well_formed) {
            fail(sums, "line " + std::to_string(line_number) +
                           ": expected '<64 hex digits>  <file name>', found '" + line + "'");
        }
        if (line.compare(66, std::string::npos, name) != 0) {
            continue;
        }
        const std::string expected = to_lower(line.substr(0, 64));
        if (found.empty()) {
            found = sha256_hex(file);
        }
        if (found != expected) {
            fail(file, "SHA-256 mismatch: " + sums.string() + " expects " + expected + ", found " +
                           found + "; the file is damaged or is not the one listed");
        }
    }
}

}  // namespace cnn
