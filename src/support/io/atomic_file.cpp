#include "support/io/atomic_file.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <system_error>
#include <vector>

// POSIX, for fsync(): the C++ standard library can write a file but not make it durable.
#include <fcntl.h>
#include <unistd.h>

#include "support/io/data_error.hpp"

namespace cnn {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
    throw DataError(path.string() + ": " + what);
}

// The first line of a text file, without its line break; "" if there is none.
std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

// `prefix` followed by 8 random hexadecimal digits, e.g. "weights.new-3fa9c1d2".
std::string random_name(const std::string& prefix) {
    std::random_device random;
    static const char digits[] = "0123456789abcdef";
    std::uint32_t bits = random();
    std::string name = prefix;
    for (int i = 0; i < 8; ++i, bits >>= 4) {
        name += digits[bits & 0xF];
    }
    return name;
}

// Asks the operating system to put `path` on the disk now, not within the next seconds: a
// file's bytes, or for a directory the list of names in it (which is where a rename lives).
// Without this a power cut shortly after a save could undo renames or leave renamed files
// empty, which is what the careful ordering of replace_directory() is there to prevent.
void sync_to_disk(const fs::path& path) {
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) {
        fail(path, std::string("cannot open it to flush it to disk: ") + std::strerror(errno));
    }
    const int result = ::fsync(descriptor);
    const int error = errno;
    ::close(descriptor);
    // EINVAL: this file system cannot sync this kind of file (some cannot sync a directory),
    // so there is nothing more that can be done.
    if (result != 0 && error != EINVAL) {
        fail(path, std::string("cannot flush it to disk: ") + std::strerror(error));
    }
}

// Removes a directory tree when it goes out of scope, unless release() was called: the new
// directory of a save that failed half way is cleaned up on every path out.
class RemoveUnlessReleased {
public:
    explicit RemoveUnlessReleased(fs::path path) : path_(std::move(path)) {}
    ~RemoveUnlessReleased() {
        if (!released_) {
            std::error_code ignored;  // a destructor must not throw; nothing else to do
            fs::remove_all(path_, ignored);
        }
    }
    RemoveUnlessReleased(const RemoveUnlessReleased&) = delete;
    RemoveUnlessReleased& operator=(const RemoveUnlessReleased&) = delete;
    void release() { released_ = true; }

private:
    fs::path path_;
    bool released_ = false;
};

// Calls file_system_step_hook, if a test set it, before the step `step`.
void before(const char* step) {
    if (file_system_step_hook) {
        file_system_step_hook(step);
    }
}

// Step 1 of replace_directory(): a new, empty directory `<name>.<kind>-XXXXXXXX` in
// `parent`; kind "new" for a save, "probe" for check_can_save_directory().
fs::path make_staging_directory(const fs::path& parent, const std::string& name,
                                const std::string& what, const std::string& kind = "new") {
    std::error_code ec;
    fs::path staging;
    do {
        staging = parent / random_name(name + "." + kind + "-");
    } while (!fs::create_directory(staging, ec) && !ec);
    if (ec) {
        fail(staging,
             "cannot create the temporary directory for saving " + what + ": " + ec.message());
    }
    return staging;
}

// Flushes everything in `staging` to the disk: files first, then the directories that list
// them, the new directory itself last.
void sync_tree(const fs::path& staging) {
    std::vector<fs::path> directories;
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(staging)) {
        if (entry.is_directory()) {
            directories.push_back(entry.path());
        } else {
            sync_to_disk(entry.path());
        }
    }
    for (auto d = directories.rbegin(); d != directories.rend(); ++d) {
        sync_to_disk(*d);
    }
    sync_to_disk(staging);
}

// Step 2 of replace_directory(): renames an existing `target` to `<name>.old-XXXXXXXX` in
// `parent`. Returns that path, or an empty one if there was nothing to move.
fs::path move_aside(const fs::path& target, const fs::path& parent, const std::string& name,
                    const std::string& what) {
    fs::path old;
    if (fs::exists(fs::symlink_status(target))) {
        do {
            old = parent / random_name(name + ".old-");
        } while (fs::exists(fs::symlink_status(old)));
        std::error_code ec;
        fs::rename(target, old, ec);
        if (ec) {
            fail(target,
                 "cannot move the old " + what + " aside to " + old.string() + ": " + ec.message());
        }
    }
    return old;
}

// Step 3 of replace_directory(): renames `staging` to `target`. If that fails, the old
// directory (if any) goes back to `target`; should that fail too, both copies are kept, the
// new one released from `remove_staging`, and the message says where they are.
void move_into_place(const fs::path& staging, const fs::path& target, const fs::path& old,
                     const std::string& what, RemoveUnlessReleased& remove_staging) {
    std::error_code ec;
    fs::rename(staging, target, ec);
    if (ec) {
        const std::string reason = ec.message();
        if (!old.empty()) {
            fs::rename(old, target, ec);  // put the old directory back
            if (ec) {
                remove_staging.release();  // keep both copies: nothing may be lost
                fail(target, "cannot move the new " + what + " into place (" + reason +
                                 ") nor the old ones back (" + ec.message() + "): the old " + what +
                                 " are in " + old.string() + ", the new ones in " +
                                 staging.string());
            }
        }
        fail(target, "cannot move the new " + what + " into place: " + reason);
    }
}

}  // namespace

void write_file_atomically(const std::filesystem::path& file, const std::string& text) {
    std::filesystem::path partial = file;
    partial += ".partial";
    std::error_code ec;
    before("write a file");
    {
        std::ofstream out(partial, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) {
            std::filesystem::remove(partial, ec);
            throw std::runtime_error("cannot write " + partial.string());
        }
    }
    before("rename the file into place");
    std::filesystem::rename(partial, file, ec);
    if (ec) {
        std::filesystem::remove(partial, ec);
        throw std::runtime_error("cannot rename " + partial.string() + " to " + file.string() +
                                 ": " + ec.message());
    }
}

fs::path without_trailing_separator(const fs::path& directory) {
    fs::path target = directory.lexically_normal();
    if (!target.has_filename() && target.has_parent_path()) {
        target = target.parent_path();
    }
    return target;
}

fs::path parent_directory(const fs::path& target) {
    return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

void check_replaceable(const fs::path& target, const DirectoryOwner& owner) {
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(target, ec);
    if (status.type() == fs::file_type::not_found) {
        return;
    }
    if (ec) {
        fail(target, "cannot examine the existing directory: " + ec.message());
    }
    const std::string refusing = "refusing to replace it with " + owner.contents + ": ";
    if (fs::is_symlink(status)) {
        fail(target, refusing + "it is a symbolic link; pass the directory it points to");
    }
    if (!fs::is_directory(status)) {
        fail(target, refusing + "it exists and is not a directory");
    }
    bool empty = true;
    for (const fs::directory_entry& entry : fs::directory_iterator(target, ec)) {
        empty = false;
        if (!owner.is_own_entry(entry)) {
            fail(target, refusing + "it holds '" + entry.path().filename().string() + "', which " +
                             owner.writer + " did not write");
        }
    }
    if (ec) {
        fail(target, "cannot list the existing directory: " + ec.message());
    }
    if (!empty && first_line(target / owner.marker_file) != owner.marker_line) {
        fail(target, refusing + "it holds no " + owner.marker_file + " written by " + owner.writer);
    }
}

namespace {

// Where replace_directory() puts `directory`: the path without a trailing separator, its last
// part, and the directory holding it, which is created if it is missing.
struct Placement {
    fs::path target;
    std::string name;
    fs::path parent;
};

Placement place(const fs::path& directory, const std::string& what) {
    const fs::path target = without_trailing_separator(directory);
    const std::string name = target.filename().string();
    if (name.empty() || name == "." || name == "..") {
        fail(directory, "expected a directory path ending in a name, such as 'out/" + what + "'");
    }
    const fs::path parent = parent_directory(target);
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) {
        fail(parent, "cannot create the directory to save " + what + " in: " + ec.message());
    }
    return {target, name, parent};
}

}  // namespace

void check_can_save_directory(const fs::path& directory, const std::string& what) {
    const Placement place_of = place(directory, what);
    const fs::path probe = make_staging_directory(place_of.parent, place_of.name, what, "probe");
    std::error_code ignored;
    fs::remove(probe, ignored);
}

void replace_directory(const fs::path& directory, const std::string& what,
                       const std::function<void(const fs::path&)>& fill) {
    const auto [target, name, parent] = place(directory, what);

    // 1. Everything goes into a new directory beside the target first.
    before("make the new directory");
    const fs::path staging = make_staging_directory(parent, name, what);
    RemoveUnlessReleased remove_staging(staging);
    fill(staging);
    before("flush the new directory");
    sync_tree(staging);

    // 2. and 3. Move the old directory aside, the new one into place.
    before("move the old directory aside");
    const fs::path old = move_aside(target, parent, name, what);
    before("move the new directory into place");
    move_into_place(staging, target, old, what, remove_staging);
    remove_staging.release();
    try {
        before("flush the renames");
        sync_to_disk(parent);
    } catch (const DataError& error) {
        fail(target,
             "the new " + what + " are in place, but could not be made durable: " + error.what());
    }

    // 4. The new directory is in place; the old copy is no longer needed. Failing to delete
    // it does not undo the save, so it is not an error.
    if (!old.empty()) {
        before("delete the old directory");
        std::error_code ignored;
        fs::remove_all(old, ignored);
    }
}

}  // namespace cnn
