#include "support/io/weights.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "support/io/atomic_file.hpp"
#include "support/io/checksum.hpp"
#include "support/io/npy.hpp"

namespace cnn {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
    throw DataError(path.string() + ": " + what);
}

// The manifest's form of a shape: the book's (64, 1, 7, 7) without spaces, so that it is one
// space-separated field: (64,1,7,7), (64), ().
std::string manifest_shape(const std::vector<std::size_t>& shape) {
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        text += (i == 0 ? "" : ",") + std::to_string(shape[i]);
    }
    return text + ")";
}

// A decimal count without sign or leading zeros that fits in a size_t.
bool parse_count(const std::string& text, std::size_t& value) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) {
        return false;
    }
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        const auto digit = static_cast<std::size_t>(c - '0');
        if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
            return false;
        }
        value = value * 10 + digit;
    }
    return true;
}

// The inverse of manifest_shape().
bool parse_manifest_shape(const std::string& text, std::vector<std::size_t>& shape) {
    if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
        return false;
    }
    shape.clear();
    const std::string inside = text.substr(1, text.size() - 2);
    if (inside.empty()) {
        return true;  // a 0-D shape
    }
    std::size_t begin = 0;
    for (;;) {
        const std::size_t comma = inside.find(',', begin);
        std::size_t dim = 0;
        if (!parse_count(inside.substr(begin, comma - begin), dim)) {
            return false;
        }
        shape.push_back(dim);
        if (comma == std::string::npos) {
            return true;
        }
        begin = comma + 1;
    }
}

bool is_sha256_hex(const std::string& text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string to_lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string parameter_label(std::size_t index, const std::string& name) {
    return "parameter " + std::to_string(index) + " '" + name + "'";
}

// What save_weights() writes into its directory: the manifest and .npy files, each a regular
// file (not a symbolic link).
bool is_weights_file(const fs::directory_entry& entry) {
    const std::string name = entry.path().filename().string();
    std::error_code ec;  // an entry that cannot be examined is not known to be ours
    return entry.is_regular_file(ec) && !entry.is_symlink(ec) &&
           (name == weights_manifest_file || entry.path().extension() == ".npy");
}

// The siblings an interrupted save_weights() may have left next to `target`, for an error
// message that tells the learner where their weights went.
std::string interrupted_save_note(const fs::path& target) {
    const std::string name = target.filename().string();
    std::vector<std::string> found;
    std::error_code ec;
    for (const fs::directory_entry& entry : fs::directory_iterator(parent_directory(target), ec)) {
        const std::string sibling = entry.path().filename().string();
        if (sibling.rfind(name + ".old-", 0) == 0 || sibling.rfind(name + ".new-", 0) == 0) {
            found.push_back(sibling);
        }
    }
    if (found.empty()) {
        return "";
    }
    std::sort(found.begin(), found.end());
    std::string note = "; an interrupted save_weights left";
    for (const std::string& sibling : found) {
        note += " " + sibling;
    }
    return note + " beside it (.old-* holds the previous weights; .new-* the new ones if it " +
           "has a manifest.txt)";
}

// One line of the manifest.
struct ManifestEntry {
    std::string name;
    std::vector<std::size_t> shape;
    std::string file;
    std::string sha256;
};

// Reads and checks `manifest`: the header line, then lines "index name shape file sha256"
// with indexes 0, 1, 2, ... Stops with an error as soon as the manifest lists more than
// `expected_count` parameters, so a huge corrupt manifest is not read to its end.
std::vector<ManifestEntry> read_manifest(const fs::path& manifest, std::size_t expected_count) {
    require_regular_file(manifest);
    std::ifstream in(manifest);
    if (!in) {
        fail(manifest, "cannot open the manifest");
    }
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    if (line != weights_manifest_header) {
        fail(manifest, "expected the first line to be '" + std::string(weights_manifest_header) +
                           "', found '" + line.substr(0, 100) + "'");
    }
    std::vector<ManifestEntry> entries;
    for (std::size_t line_number = 2; std::getline(in, line); ++line_number) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();  // a manifest edited on Windows
        }
        if (line.empty()) {
            continue;
        }
        const std::string where = "line " + std::to_string(line_number) + ": ";
        std::istringstream fields(line);
        std::string index_text, extra;
        ManifestEntry entry;
        std::string shape_text;
        if (!(fields >> index_text >> entry.name >> shape_text >> entry.file >> entry.sha256) ||
            (fields >> extra)) {
            fail(manifest, where + "expected 5 fields 'index name shape file sha256', found '" +
                               line.substr(0, 200) + "'");
        }
        std::size_t index = 0;
        if (!parse_count(index_text, index) || index != entries.size()) {
            fail(manifest, where + "expected the index " + std::to_string(entries.size()) +
                               ", found '" + index_text + "'");
        }
        if (entries.size() == expected_count) {
            fail(manifest, "lists more parameters than the model's " +
                               std::to_string(expected_count) + " (" + where + "'" + line + "')");
        }
        std::string expected_file;
        try {
            expected_file = weights_file_name(entry.name);
        } catch (const std::invalid_argument& error) {
            fail(manifest, where + error.what());
        }
        if (!parse_manifest_shape(shape_text, entry.shape)) {
            fail(manifest,
                 where + "expected a shape such as (64,1,7,7), found '" + shape_text + "'");
        }
        if (entry.file != expected_file) {
            fail(manifest, where + "expected the file name '" + expected_file + "' for " +
                               "parameter '" + entry.name + "', found '" + entry.file + "'");
        }
        if (!is_sha256_hex(entry.sha256)) {
            fail(manifest, where + "expected a SHA-256 of 64 lower-case hex digits, found '" +
                               entry.sha256 + "'");
        }
        entries.push_back(std::move(entry));
    }
    if (in.bad()) {
        fail(manifest, "read error");
    }
    return entries;
}

// product(shape) == size, without overflow.
bool shape_matches_size(const std::vector<std::size_t>& shape, std::size_t size) {
    std::size_t product = 1;
    for (std::size_t dim : shape) {
        if (dim != 0 && product > size / dim) {
            return false;  // product * dim > size (and perhaps overflow)
        }
        product *= dim;
    }
    return product == size;
}

}  // namespace

std::string weights_file_name(const std::string& parameter_name) {
    std::string file;
    bool part_is_empty = true;
    for (char c : parameter_name) {
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (c == '/' && !part_is_empty) {
            file += '.';
            part_is_empty = true;
        } else if (allowed) {
            file += c;
            part_is_empty = false;
        } else {
            break;  // refused below
        }
    }
    if (file.size() != parameter_name.size() || part_is_empty) {
        throw std::invalid_argument("parameter '" + parameter_name +
                                    "': expected a name of letters, digits, '_' and '-' " +
                                    "in parts separated by single '/', such as 'conv2d/kernel'");
    }
    return file + ".npy";
}

namespace {

void save_weights_impl(const std::vector<Parameter>& parameters, const fs::path& directory) {
    const fs::path target = without_trailing_separator(directory);
    const std::string name = target.filename().string();
    if (name.empty() || name == "." || name == "..") {
        fail(directory, "expected a directory path ending in a name, such as 'out/weights'");
    }

    // Check the parameters before writing anything.
    std::vector<std::string> files;
    std::vector<std::string> lower_case_files;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const Parameter& p = parameters[i];
        try {
            files.push_back(weights_file_name(p.name));
        } catch (const std::invalid_argument& error) {
            fail(target, "cannot save parameter " + std::to_string(i) + ": " + error.what());
        }
        const std::string lower = to_lower(files.back());
        const auto same = std::find(lower_case_files.begin(), lower_case_files.end(), lower);
        if (same != lower_case_files.end()) {
            const std::size_t first = static_cast<std::size_t>(same - lower_case_files.begin());
            fail(target, "cannot save " + parameter_label(i, p.name) + ": " +
                             parameter_label(first, parameters[first].name) +
                             " would be saved in the same file (names must differ in more " +
                             "than letter case)");
        }
        lower_case_files.push_back(lower);
        if (!shape_matches_size(p.shape, p.size)) {
            fail(target, "cannot save " + parameter_label(i, p.name) + ": its shape " +
                             manifest_shape(p.shape) + " does not hold its " +
                             std::to_string(p.size) + " values");
        }
        if (p.value == nullptr && p.size > 0) {
            fail(target, "cannot save " + parameter_label(i, p.name) + ": it has no values");
        }
    }
    check_replaceable(target, {"save_weights", "saved weights", weights_manifest_file,
                               weights_manifest_header, is_weights_file});
    replace_directory(target, "weights", [&](const fs::path& staging) {
        std::string manifest = std::string(weights_manifest_header) + "\n";
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const Parameter& p = parameters[i];
            const fs::path file = staging / files[i];
            write_npy(file, p.value, p.shape);
            manifest += std::to_string(i) + " " + p.name + " " + manifest_shape(p.shape) + " " +
                        files[i] + " " + sha256_hex(file) + "\n";
        }
        const fs::path manifest_path = staging / weights_manifest_file;
        try {
            write_file_atomically(manifest_path, manifest);
        } catch (const std::exception& error) {
            fail(manifest_path, std::string("cannot write the manifest: ") + error.what());
        }
    });
}

void load_weights_impl(const std::vector<Parameter>& parameters, const fs::path& directory) {
    const fs::path target = without_trailing_separator(directory);
    std::error_code ec;
    if (!fs::is_directory(target, ec)) {
        fail(directory, std::string(fs::exists(target, ec) ? "expected a directory of saved "
                                                             "weights, found a file"
                                                           : "no saved weights: the directory "
                                                             "does not exist") +
                            interrupted_save_note(target));
    }
    const fs::path manifest = target / weights_manifest_file;
    if (!fs::exists(manifest, ec)) {
        fail(manifest, "no saved weights: the manifest is missing" + interrupted_save_note(target));
    }

    // The manifest against the model: count, names, shapes.
    const std::vector<ManifestEntry> entries = read_manifest(manifest, parameters.size());
    if (entries.size() != parameters.size()) {
        fail(manifest, "expected the " + std::to_string(parameters.size()) + " parameters of " +
                           "the model, found " + std::to_string(entries.size()) + " (the first " +
                           "missing one is " +
                           parameter_label(entries.size(), parameters[entries.size()].name) + ")");
    }
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const Parameter& p = parameters[i];
        const ManifestEntry& entry = entries[i];
        if (entry.name != p.name) {
            fail(manifest, "parameter " + std::to_string(i) + ": the model expects '" + p.name +
                               "', found '" + entry.name + "'");
        }
        if (entry.shape != p.shape) {
            fail(manifest, parameter_label(i, p.name) + ": the model expects shape " +
                               manifest_shape(p.shape) + ", found " + manifest_shape(entry.shape));
        }
        if (!shape_matches_size(p.shape, p.size) || (p.value == nullptr && p.size > 0)) {
            fail(manifest, "cannot load " + parameter_label(i, p.name) + ": the model's " +
                               "parameter has shape " + manifest_shape(p.shape) + " but " +
                               std::to_string(p.size) + " values");
        }
    }

    // Every file: present, unchanged since the save, well formed. Nothing is copied yet.
    std::vector<NpyArray> arrays;
    arrays.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const ManifestEntry& entry = entries[i];
        const fs::path file = target / entry.file;
        if (!fs::exists(file, ec)) {
            fail(file, "missing; " + manifest.string() + " lists it for " +
                           parameter_label(i, entry.name));
        }
        const std::string found = sha256_hex(file);
        if (found != entry.sha256) {
            fail(file, "SHA-256 mismatch: " + manifest.string() + " expects " + entry.sha256 +
                           ", found " + found + "; the file is damaged or was changed after " +
                           "the save");
        }
        // Between the checksum and this read the file could change under us; read_npy()
        // still checks everything it reads, so the worst case is a valid file of the right
        // shape written by someone else in that instant.
        NpyArray array = read_npy(file);
        if (array.shape != entry.shape) {
            fail(file, "expected shape " + manifest_shape(entry.shape) + " as listed in " +
                           manifest.string() + ", found " + manifest_shape(array.shape));
        }
        arrays.push_back(std::move(array));
    }

    // All checked: now, and only now, the model changes.
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        std::copy(arrays[i].data.begin(), arrays[i].data.end(), parameters[i].value);
    }
}

}  // namespace

// The file system calls above that have no error_code overload (directory iteration,
// symlink_status) throw std::filesystem::filesystem_error; callers get one kind of error.
void save_weights(const std::vector<Parameter>& parameters, const fs::path& directory) {
    try {
        save_weights_impl(parameters, directory);
    } catch (const fs::filesystem_error& error) {
        fail(directory, std::string("cannot save weights: ") + error.what());
    }
}

void load_weights(const std::vector<Parameter>& parameters, const fs::path& directory) {
    try {
        load_weights_impl(parameters, directory);
    } catch (const fs::filesystem_error& error) {
        fail(directory, std::string("cannot load weights: ") + error.what());
    }
}

}  // namespace cnn
