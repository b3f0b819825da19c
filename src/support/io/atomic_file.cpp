#include "support/io/atomic_file.hpp"

#include <fstream>
#include <stdexcept>
#include <system_error>

namespace cnn {

void write_file_atomically(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::path partial = file;
    partial += ".partial";
    std::error_code ec;
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) {
            std::filesystem::remove(partial, ec);
            throw std::runtime_error("cannot write " + partial.string());
        }
    }
    std::filesystem::rename(partial, file, ec);
    if (ec) {
        std::filesystem::remove(partial, ec);
        throw std::runtime_error("cannot rename " + partial.string() + " to " + file.string() +
                                 ": " + ec.message());
    }
}

}  // namespace cnn
