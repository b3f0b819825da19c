#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "support/app/program.hpp"
#include "test_support.hpp"

namespace {
// Runs a Program (of `sections` numbered sections, if any) on the given arguments, capturing
// what it prints on stderr.
int run(const std::vector<std::string>& args, const std::function<void(const cnn::ProgramOptions&)>& body,
        std::string* err = nullptr, std::size_t sections = 0) {
    cnn::Program program("ch99_test", "a test program", cnn::ReadsData::yes);
    if (sections > 0) {
        program.sections(sections);
    }
    std::vector<char*> argv;
    std::vector<std::string> storage = args;
    storage.insert(storage.begin(), "ch99_test");
    for (std::string& s : storage) {
        argv.push_back(s.data());
    }
    std::ostringstream captured;
    std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
    const int status = program.run(static_cast<int>(argv.size()), argv.data(), body);
    std::cerr.rdbuf(old);
    if (err != nullptr) {
        *err = captured.str();
    }
    return status;
}
}  // namespace

TEST_CASE("Program: flags reach the body, --out is created, errors exit 1 with a message") {
    const auto out = std::filesystem::temp_directory_path() / "cnn_test_program_out";
    std::filesystem::remove_all(out);
    cnn::ProgramOptions seen;
    CHECK(run({"--quick", "--seed", "7", "--out", out.string()},
              [&](const cnn::ProgramOptions& o) { seen = o; }) == 0);
    CHECK(seen.quick);
    CHECK(seen.seed == 7);
    CHECK(std::filesystem::is_directory(out));
    CHECK_FALSE(seen.data.has_value());

    std::string err;
    CHECK(run({"--out", out.string()},
              [](const cnn::ProgramOptions&) { throw std::runtime_error("file x is broken"); },
              &err) == 1);
    CHECK(err == "error: file x is broken\n");
    CHECK(run({"--data", "/no/such/dir", "--out", out.string()}, [](const cnn::ProgramOptions&) {},
              &err) != 0);
    CHECK(run({"--bogus"}, [](const cnn::ProgramOptions&) {}, &err) != 0);
    std::filesystem::remove_all(out);
}

TEST_CASE("Program: a --seed that is negative or too large is refused, never changed") {
    // CLI11 alone reads "-5" into an unsigned seed as 2^64 - 5, and 2^64 or more as 2^64 - 1.
    cnn::testing::TempDir out;
    for (const std::string bad : {"-5", "18446744073709551616", "99999999999999999999999", "7x"}) {
        CAPTURE(bad);
        std::string err;
        bool ran = false;
        CHECK(run(
                  {"--seed=" + bad, "--out", out.path().string()},
                  [&](const cnn::ProgramOptions&) { ran = true; }, &err) != 0);
        CHECK_FALSE(ran);
        const std::string expected =
            "--seed: expected a whole number from 0 to 18446744073709551615, got '" + bad + "'";
        CHECK(err.find(expected) != std::string::npos);
    }
    cnn::ProgramOptions seen;
    CHECK(run({"--seed", "18446744073709551615", "--out", out.path().string()},
              [&](const cnn::ProgramOptions& o) { seen = o; }) == 0);
    CHECK(seen.seed == 18446744073709551615ULL);
}

TEST_CASE("Program: --only runs one section of those the program has, and refuses any other") {
    cnn::testing::TempDir out;
    cnn::ProgramOptions seen;
    CHECK(run({"--out", out.path().string()}, [&](const cnn::ProgramOptions& o) { seen = o; }, nullptr, 3) == 0);
    CHECK(seen.wants(1));
    CHECK(seen.wants(3));
    CHECK(run({"--only", "2", "--out", out.path().string()}, [&](const cnn::ProgramOptions& o) { seen = o; },
              nullptr, 3) == 0);
    CHECK_FALSE(seen.wants(1));
    CHECK(seen.wants(2));
    CHECK_FALSE(seen.wants(3));
    for (const std::string bad : {"0", "4"}) {
        std::string err;
        bool ran = false;
        CHECK(run({"--only", bad, "--out", out.path().string()}, [&](const cnn::ProgramOptions&) { ran = true; },
                  &err, 3) != 0);
        CHECK_FALSE(ran);
        CHECK(err.find("--only: Value " + bad + " not in range 1 to 3") != std::string::npos);
    }
    // A program without sections has no --only.
    std::string err;
    CHECK(run({"--only", "1", "--out", out.path().string()}, [](const cnn::ProgramOptions&) {}, &err) != 0);
    CHECK(err.find("--only") != std::string::npos);
}

TEST_CASE("Program: an empty --out is refused, naming the flag") {
    std::string err;
    bool ran = false;
    CHECK(run(
              {"--out", ""}, [&](const cnn::ProgramOptions&) { ran = true; }, &err) != 0);
    CHECK_FALSE(ran);
    CHECK(err.find("--out: expected a folder for the plots and tables, got ''") !=
          std::string::npos);
}

TEST_CASE("Transcript: prints each line at once, writes the file only on save()") {
    cnn::testing::TempDir dir;
    const auto file = dir / "table.txt";
    std::ostringstream captured;
    std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
    cnn::Transcript table(file);
    table.line("a  b");
    table.line("1  2");
    std::cout.rdbuf(old);
    CHECK(captured.str() == "a  b\n1  2\n");
    CHECK_FALSE(std::filesystem::exists(file));
    table.save();
    std::ifstream in(file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "a  b\n1  2\n");
    CHECK_FALSE(std::filesystem::exists(dir / "table.txt.partial"));
}

TEST_CASE("Program: a chapter's own flags take values, and their checks refuse bad ones") {
    std::size_t epochs = 5;
    float rate = 0.5f;
    std::string name = "adam";
    std::optional<std::filesystem::path> weights;
    std::vector<std::size_t> decay;
    bool resume = false;
    const auto add = [&](cnn::Program& program) {
        program.option("--epochs", epochs, "epochs").show_default().within(1, 10);
        program.option("--rate", rate, "rate").check([](const std::string& text) {
            return text == "0" ? "expected a rate above 0, got '0'" : std::string();
        });
        program.option("--name", name, "name").default_text("adam").one_of({"adam", "nadam"});
        program.option("--weights", weights, "weights").existing_folder();
        program.option("--decay-at", decay, "decay").within(1, 100);
        const cnn::Option checkpoint = program.option("--checkpoint", name, "checkpoint");
        program.flag("--resume", resume, "resume").needs(checkpoint);
    };
    cnn::testing::TempDir out;
    const std::string folder = out.path().string();
    const cnn::testing::ProgramRun good = cnn::testing::run_program(
        add, {"--epochs", "10", "--rate", "0.25", "--name", "nadam", "--weights", folder,
              "--decay-at", "3", "7", "--out", folder});
    CHECK(good.status == 0);
    CHECK(good.body_ran);
    CHECK(epochs == 10);
    CHECK(rate == 0.25f);
    CHECK(name == "nadam");
    CHECK(weights == out.path());
    CHECK(decay == std::vector<std::size_t>{3, 7});
    CHECK_FALSE(resume);

    const cnn::testing::ProgramRun help = cnn::testing::run_program(add, {"--help"});
    CHECK(help.status == 0);
    CHECK_FALSE(help.body_ran);
    CHECK(help.out.find("--epochs UINT:UINT in [1 - 10]=10") != std::string::npos);  // added at 10
    CHECK(help.out.find("--name TEXT:{adam,nadam}=adam") != std::string::npos);

    // Each refusal names the flag and what was wrong, and the body never runs.
    const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
        {{"--epochs", "11"}, "--epochs: Value 11 not in range 1 to 10"},
        {{"--epochs", "0"}, "--epochs: Value 0 not in range 1 to 10"},
        {{"--epochs", "-1"}, "--epochs: Value -1 not in range 1 to 10"},
        // strtoull would read this as 1, and 0x5 as 5: no value may wrap or change base.
        {{"--epochs", "-18446744073709551615"},
         "--epochs: Value -18446744073709551615 not in range 1 to 10"},
        {{"--epochs", "0x5"}, "--epochs: Value 0x5 not in range 1 to 10"},
        {{"--rate", "0"}, "--rate: expected a rate above 0, got '0'"},
        {{"--name", "sgd"}, "--name: sgd not in {adam,nadam}"},
        {{"--weights", "/no/such/folder"}, "--weights: Directory does not exist: /no/such/folder"},
        {{"--decay-at", "3", "101"}, "--decay-at: Value 101 not in range 1 to 100"},
        {{"--resume"}, "--resume requires --checkpoint"},
    };
    for (const auto& [args, message] : bad) {
        CAPTURE(message);
        std::vector<std::string> with_out = args;
        with_out.insert(with_out.end(), {"--out", folder});
        const cnn::testing::ProgramRun ran = cnn::testing::run_program(add, with_out);
        CHECK(ran.status != 0);
        CHECK_FALSE(ran.body_ran);
        CHECK(ran.err.find(message) != std::string::npos);
    }
}
