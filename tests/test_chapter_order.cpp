// The book's rule: chapter N's program uses only library code introduced in chapters <= N,
// and a header of chapter N includes only headers of chapters <= N, without exceptions. Every
// header of the teaching library (src/cnn) says where it was born with `\ingroup chNN` in its
// file comment. This test reads the sources and fails on any header without that line and on
// any include that reaches ahead. Support code (src/support: files, checksums, plots, the
// program frame) belongs to no chapter: it is never included by the teaching library, and
// every chapter program may use it.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using cnn::testing::read_text;

/// The chapter a header declares with `\ingroup chNN`, or -1 when it declares none.
int declared_chapter(const std::string& text) {
    static const std::regex ingroup(R"(\\ingroup\s+ch(\d\d))");
    std::smatch m;
    return std::regex_search(text, m, ingroup) ? std::stoi(m[1]) : -1;
}

/// The project headers a source includes, as "cnn/..." paths.
std::vector<std::string> project_includes(const std::string& text) {
    static const std::regex include(R"(#include\s+"(cnn/[^"]+)\")");
    std::vector<std::string> found;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
         it != std::sregex_iterator(); ++it) {
        found.push_back((*it)[1]);
    }
    return found;
}

/// Each include of `source` (which belongs to `chapter`) whose header was born later.
std::vector<std::string> violations(const std::string& source, int chapter,
                                    const std::string& text,
                                    const std::map<std::string, int>& header_chapter) {
    std::vector<std::string> found;
    for (const std::string& header : project_includes(text)) {
        const auto it = header_chapter.find(header);
        if (it == header_chapter.end()) {
            found.push_back(source + " includes " + header + ", which does not exist");
        } else if (it->second > chapter) {
            found.push_back(source + " (chapter " + std::to_string(chapter) + ") includes " +
                            header + " (chapter " + std::to_string(it->second) + ")");
        }
    }
    return found;
}

}  // namespace

TEST_CASE("the rule itself catches an include from a later chapter") {
    const std::map<std::string, int> headers = {{"cnn/a.hpp", 1}, {"cnn/b.hpp", 4}};
    CHECK(violations("x", 4, "#include \"cnn/a.hpp\"\n#include \"cnn/b.hpp\"", headers).empty());
    CHECK(violations("x", 2, "#include \"cnn/b.hpp\"", headers).size() == 1);
    CHECK(violations("x", 9, "#include \"cnn/c.hpp\"", headers).size() == 1);
    CHECK(declared_chapter("/// \\file\n/// \\ingroup ch07\n") == 7);
    CHECK(declared_chapter("/// no group") == -1);
}

TEST_CASE("every header names its chapter, and nothing includes ahead") {
    const fs::path root = CNN_SOURCE_DIR;
    std::map<std::string, int> header_chapter;
    for (const auto& entry : fs::recursive_directory_iterator(root / "src" / "cnn")) {
        if (entry.path().extension() == ".hpp") {
            const std::string name = fs::relative(entry.path(), root / "src").generic_string();
            const int chapter = declared_chapter(read_text(entry.path()));
            CHECK_MESSAGE(chapter > 0, name << " has no \\ingroup chNN in its file comment");
            header_chapter[name] = chapter;
        }
    }
    REQUIRE(header_chapter.size() > 10);

    std::vector<std::string> problems;
    // Library files: a header, or the source beside it, belongs to the header's chapter.
    for (const auto& entry : fs::recursive_directory_iterator(root / "src" / "cnn")) {
        const fs::path& file = entry.path();
        if (file.extension() != ".hpp" && file.extension() != ".cpp") {
            continue;
        }
        fs::path header = file;
        header.replace_extension(".hpp");
        const auto it = header_chapter.find(fs::relative(header, root / "src").generic_string());
        if (it == header_chapter.end()) {
            continue;  // a .cpp without a header of its own
        }
        for (const std::string& p : violations(file.string(), it->second, read_text(file),
                                               header_chapter)) {
            problems.push_back(p);
        }
    }
    // Chapter programs: chapters/NN_name/*.cpp belong to chapter NN.
    std::size_t chapters = 0;
    for (const auto& dir : fs::directory_iterator(root / "chapters")) {
        const std::string name = dir.path().filename().string();
        if (!dir.is_directory() || !std::regex_match(name, std::regex(R"(\d\d_.+)"))) {
            continue;
        }
        ++chapters;
        const int chapter = std::stoi(name.substr(0, 2));
        for (const auto& entry : fs::directory_iterator(dir.path())) {
            if (entry.path().extension() == ".cpp") {
                for (const std::string& p : violations(entry.path().string(), chapter,
                                                       read_text(entry.path()), header_chapter)) {
                    problems.push_back(p);
                }
            }
        }
    }
    CHECK(chapters >= 1);
    for (const std::string& p : problems) {
        FAIL_CHECK(p);
    }
}

TEST_CASE("the teaching library never includes support code, and support code has no chapter") {
    const fs::path root = CNN_SOURCE_DIR;
    std::vector<std::string> problems;
    for (const auto& entry : fs::recursive_directory_iterator(root / "src" / "cnn")) {
        if (!entry.is_regular_file()) {
            continue;  // a folder
        }
        const std::string text = read_text(entry.path());
        if (text.find("#include \"support/") != std::string::npos) {
            problems.push_back(entry.path().string() + " includes support code");
        }
    }
    for (const auto& entry : fs::recursive_directory_iterator(root / "src" / "support")) {
        if (entry.path().extension() == ".hpp" && declared_chapter(read_text(entry.path())) != -1) {
            problems.push_back(entry.path().string() + " names a chapter");
        }
    }
    for (const std::string& p : problems) {
        FAIL_CHECK(p);
    }
}
