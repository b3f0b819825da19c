// CTest runs each doctest case by name (doctest_discover_tests), and a ';' in a name splits it
// into two filters that match no case: the test then "passes" without running anything. Three
// cases were silently skipped that way until a new test's name showed it; this keeps it from
// happening again.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <doctest/doctest.h>

namespace fs = std::filesystem;

TEST_CASE("no test case name holds a semicolon, which would make CTest skip it") {
    const std::regex name(R"re(TEST_CASE\("([^"]*)")re");
    std::size_t cases = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(CNN_SOURCE_DIR) / "tests")) {
        if (entry.path().extension() != ".cpp") {
            continue;
        }
        std::ifstream in(entry.path());
        std::stringstream text;
        text << in.rdbuf();
        const std::string source = text.str();
        for (std::sregex_iterator it(source.begin(), source.end(), name), end; it != end; ++it) {
            ++cases;
            const std::string found = (*it)[1];
            const std::string where = entry.path().filename().string() + ": \"" + found + "\"";
            CHECK_MESSAGE(found.find(';') == std::string::npos, where);
        }
    }
    CHECK(cases > 100);  // the scan found the test files
}
