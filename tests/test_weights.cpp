// Tests of support/io/weights.hpp: saving a model's parameters to a directory of .npy files with a
// manifest, loading them back exactly, replacing an old save whole, and refusing every
// mismatch without touching the model.
//
// The model is a stand-in with the parameters of a tiny CNN: a Conv2D kernel and bias, a
// Dense kernel and bias. Each failing load breaks the LAST parameter where it can, so that a
// loader that copied values as it went would be caught having changed the first ones.
#include "support/io/weights.hpp"

#include "support/io/checksum.hpp"
#include "support/io/npy.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// The tensors of a tiny CNN and their gradients; parameters() views them as a model does.
struct TinyModel {
    xt::xtensor<float, 4> kernel, kernel_grad;          // (FN, C, FH, FW) = (4, 1, 3, 3)
    xt::xtensor<float, 1> bias, bias_grad;              // (FN) = (4)
    xt::xtensor<float, 2> dense, dense_grad;            // (D, M) = (36, units)
    xt::xtensor<float, 1> dense_bias, dense_bias_grad;  // (M) = (units)

    // Weights uniform in [-1, 1) from `seed`, with `units` outputs in the Dense layer.
    explicit TinyModel(std::uint64_t seed, std::size_t units = 10) {
        cnn::Rng rng(seed);
        kernel = cnn::testing::random_tensor<4>({4, 1, 3, 3}, rng);
        bias = cnn::testing::random_tensor<1>({4}, rng);
        dense = cnn::testing::random_tensor<2>({36, units}, rng);
        dense_bias = cnn::testing::random_tensor<1>({units}, rng);
        kernel_grad = xt::zeros_like(kernel);
        bias_grad = xt::zeros_like(bias);
        dense_grad = xt::zeros_like(dense);
        dense_bias_grad = xt::zeros_like(dense_bias);
    }

    std::vector<cnn::Parameter> parameters() {
        return {cnn::make_parameter("conv2d/kernel", kernel, kernel_grad),
                cnn::make_parameter("conv2d/bias", bias, bias_grad),
                cnn::make_parameter("dense/kernel", dense, dense_grad),
                cnn::make_parameter("dense/bias", dense_bias, dense_bias_grad)};
    }
};

// Every value of every parameter, in order: what a failed load must leave unchanged.
std::vector<std::vector<float>> values_of(const std::vector<cnn::Parameter>& parameters) {
    std::vector<std::vector<float>> values;
    for (const cnn::Parameter& p : parameters) {
        values.emplace_back(p.value, p.value + p.size);
    }
    return values;
}

// True if the two snapshots hold the same bits: tells -0.0 from 0.0, compares NaNs.
bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].size() != b[i].size() ||
            std::memcmp(a[i].data(), b[i].data(), sizeof(float) * a[i].size()) != 0) {
            return false;
        }
    }
    return true;
}

using cnn::testing::read_text;

using cnn::testing::write_text;

std::vector<std::string> sorted(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> files_in(const fs::path& directory) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(directory)) {
        names.push_back(entry.path().filename().string());
    }
    return sorted(names);
}

// Saves a model (seed 1) into a fresh dir/weights, applies `damage` to that save, then checks
// that loading it into `destination` fails with a DataError containing `message` and leaves
// every value of `destination` as it was.
template <class Damage>
void check_load_fails(const std::vector<cnn::Parameter>& destination, Damage damage,
                      const std::string& message) {
    cnn::testing::TempDir dir;
    TinyModel source(1);
    cnn::save_weights(source.parameters(), dir / "weights");
    damage(dir / "weights");
    const auto before = values_of(destination);
    CHECK_THROWS_WITH_AS(cnn::load_weights(destination, dir / "weights"),
                         doctest::Contains(message.c_str()), cnn::DataError);
    CHECK(same_bits(values_of(destination), before));
}

}  // namespace

TEST_CASE("weights_file_name maps '/' to '.', and refuses names that could be ambiguous") {
    CHECK(cnn::weights_file_name("conv2d/kernel") == "conv2d.kernel.npy");
    CHECK(cnn::weights_file_name("dense_1/bias") == "dense_1.bias.npy");
    CHECK(cnn::weights_file_name("block-2/conv/kernel") == "block-2.conv.kernel.npy");
    CHECK(cnn::weights_file_name("w") == "w.npy");
    // '.' would make "a.b/c" and "a/b.c" the same file; '/' at an end or twice, spaces,
    // and anything that could climb out of the directory are refused.
    for (const char* bad :
         {"a.b/c", "", "/a", "a/", "a//b", "a b", "../x", "a\\b", "caf\xc3\xa9"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(cnn::weights_file_name(bad),
                             doctest::Contains("expected a name of letters, digits, '_' and '-'"),
                             std::invalid_argument);
    }
}

TEST_CASE("save_weights then load_weights reproduces every value exactly") {
    cnn::testing::TempDir dir;
    TinyModel saved(1);
    saved.kernel(0, 0, 0, 0) = -0.0f;                         // a value a text format might lose
    saved.bias(1) = 1e-40f;                                   // a subnormal
    cnn::save_weights(saved.parameters(), dir / "weights/");  // a trailing '/' is fine

    TinyModel loaded(2);
    REQUIRE_FALSE(same_bits(values_of(loaded.parameters()), values_of(saved.parameters())));
    cnn::load_weights(loaded.parameters(), dir / "weights");
    CHECK(same_bits(values_of(loaded.parameters()), values_of(saved.parameters())));
}

TEST_CASE("a save is a manifest and one .npy per parameter, with nothing left beside it") {
    cnn::testing::TempDir dir;
    TinyModel model(1);
    const fs::path weights = dir / "weights";
    cnn::save_weights(model.parameters(), weights);

    CHECK(dir.files() == std::vector<std::string>{"weights"});  // no temporary directory
    CHECK(files_in(weights) == sorted({"manifest.txt", "conv2d.kernel.npy", "conv2d.bias.npy",
                                       "dense.kernel.npy", "dense.bias.npy"}));
    // The manifest: the format line, then index, name, shape, file, SHA-256 of the file.
    std::istringstream manifest(read_text(weights / "manifest.txt"));
    std::string line;
    std::getline(manifest, line);
    CHECK(line == "# cnn-steps weights 1: index name shape file sha256");
    struct Line {
        std::string fields;  // all but the checksum
        std::string file;
    };
    const std::vector<Line> expected = {
        {"0 conv2d/kernel (4,1,3,3) conv2d.kernel.npy", "conv2d.kernel.npy"},
        {"1 conv2d/bias (4) conv2d.bias.npy", "conv2d.bias.npy"},
        {"2 dense/kernel (36,10) dense.kernel.npy", "dense.kernel.npy"},
        {"3 dense/bias (10) dense.bias.npy", "dense.bias.npy"}};
    for (const Line& e : expected) {
        REQUIRE(std::getline(manifest, line));
        CHECK(line == e.fields + " " + cnn::sha256_hex(weights / e.file));
    }
    CHECK_FALSE(std::getline(manifest, line));
    // Each file is an ordinary .npy of the parameter's shape, which NumPy can open.
    CHECK(cnn::read_npy(weights / "conv2d.kernel.npy").shape ==
          std::vector<std::size_t>{4, 1, 3, 3});
}

TEST_CASE("saving over an earlier save replaces it whole") {
    cnn::testing::TempDir dir;
    const fs::path weights = dir / "weights";
    TinyModel first(1, 12);
    std::vector<cnn::Parameter> with_extra = first.parameters();
    xt::xtensor<float, 1> extra = {1, 2, 3}, extra_grad = {0, 0, 0};
    with_extra.push_back(cnn::make_parameter("extra/w", extra, extra_grad));
    cnn::save_weights(with_extra, weights);
    REQUIRE(fs::exists(weights / "extra.w.npy"));

    TinyModel second(3);
    cnn::save_weights(second.parameters(), weights);
    CHECK(dir.files() == std::vector<std::string>{"weights"});  // old copy deleted too
    CHECK(files_in(weights) == sorted({"manifest.txt", "conv2d.kernel.npy", "conv2d.bias.npy",
                                       "dense.kernel.npy", "dense.bias.npy"}));
    TinyModel loaded(4);
    cnn::load_weights(loaded.parameters(), weights);
    CHECK(same_bits(values_of(loaded.parameters()), values_of(second.parameters())));
}

TEST_CASE("save_weights refuses to replace a directory or file it did not write") {
    cnn::testing::TempDir dir;
    TinyModel model(1);
    // A directory with a file of the learner's: never replaced (or deleted).
    fs::create_directory(dir / "notes");
    write_text(dir / "notes" / "todo.txt", "keep me");
    CHECK_THROWS_WITH_AS(cnn::save_weights(model.parameters(), dir / "notes"),
                         doctest::Contains("refusing to replace it with saved weights: it holds "
                                           "'todo.txt', which save_weights did not write"),
                         cnn::DataError);
    CHECK(read_text(dir / "notes" / "todo.txt") == "keep me");
    // .npy files without our manifest: not ours either.
    fs::create_directory(dir / "arrays");
    write_text(dir / "arrays" / "x.npy", "");
    CHECK_THROWS_WITH_AS(cnn::save_weights(model.parameters(), dir / "arrays"),
                         doctest::Contains("it holds no manifest.txt written by save_weights"),
                         cnn::DataError);
    // A file.
    write_text(dir / "file", "data");
    CHECK_THROWS_WITH_AS(cnn::save_weights(model.parameters(), dir / "file"),
                         doctest::Contains("it exists and is not a directory"), cnn::DataError);
    CHECK(sorted(dir.files()) == sorted({"notes", "arrays", "file"}));  // nothing left over
}

TEST_CASE("save_weights refuses bad or clashing parameter names and leaves old weights") {
    cnn::testing::TempDir dir;
    const fs::path weights = dir / "weights";
    TinyModel model(1);
    cnn::save_weights(model.parameters(), weights);
    const std::string manifest_before = read_text(weights / "manifest.txt");

    std::vector<cnn::Parameter> bad_name = model.parameters();
    bad_name[3].name = "dense.bias";
    CHECK_THROWS_WITH_AS(cnn::save_weights(bad_name, weights),
                         doctest::Contains("cannot save parameter 3: parameter 'dense.bias'"),
                         cnn::DataError);
    std::vector<cnn::Parameter> clash = model.parameters();
    clash[3].name = "Conv2D/Kernel";
    CHECK_THROWS_WITH_AS(cnn::save_weights(clash, weights),
                         doctest::Contains("cannot save parameter 3 'Conv2D/Kernel': parameter 0 "
                                           "'conv2d/kernel' would be saved in the same file"),
                         cnn::DataError);
    CHECK(read_text(weights / "manifest.txt") == manifest_before);
    CHECK(dir.files() == std::vector<std::string>{"weights"});
}

TEST_CASE("load_weights refuses a model whose parameter has another shape, naming both") {
    TinyModel destination(2, 12);  // Dense with 12 units; the save has 10
    check_load_fails(
        destination.parameters(), [](const fs::path&) {},
        "manifest.txt: parameter 2 'dense/kernel': the model expects shape "
        "(36,12), found (36,10)");
}

TEST_CASE("load_weights refuses a model whose parameter has another name") {
    TinyModel destination(2);
    std::vector<cnn::Parameter> renamed = destination.parameters();
    renamed[3].name = "dense/offset";
    check_load_fails(
        renamed, [](const fs::path&) {},
        "manifest.txt: parameter 3: the model expects 'dense/offset', found "
        "'dense/bias'");
}

TEST_CASE("load_weights refuses a device in place of a weights file or the manifest") {
    // Linked to /dev/zero, either would be read forever; /dev/null reads as empty, which
    // shows the difference without a hang.
    TinyModel destination(2);
    const auto device_instead_of = [](const std::string& name) {
        return [name](const fs::path& weights) {
            fs::remove(weights / name);
            fs::create_symlink("/dev/null", weights / name);
        };
    };
    check_load_fails(destination.parameters(), device_instead_of("dense.kernel.npy"),
                     "dense.kernel.npy: expected a regular file, found a character device");
    check_load_fails(destination.parameters(), device_instead_of("manifest.txt"),
                     "manifest.txt: expected a regular file, found a character device");
}

TEST_CASE("load_weights refuses a save with a missing file") {
    TinyModel destination(2);
    check_load_fails(
        destination.parameters(),
        [](const fs::path& weights) { fs::remove(weights / "dense.bias.npy"); },
        "dense.bias.npy: missing; ");
}

TEST_CASE("load_weights catches a corrupted file by its checksum") {
    TinyModel destination(2);
    const auto flip_a_byte = [](const fs::path& weights) {
        const fs::path file = weights / "dense.bias.npy";
        std::string bytes = read_text(file);
        bytes[130] = static_cast<char>(bytes[130] ^ 0x01);  // one bit of the first value
        write_text(file, bytes);
        REQUIRE(cnn::read_npy(file).data.size() == 10);  // still a valid .npy: only the
    };                                                   // checksum can tell
    check_load_fails(destination.parameters(), flip_a_byte, "dense.bias.npy: SHA-256 mismatch: ");
}

TEST_CASE("load_weights refuses a manifest that lists fewer parameters than the model") {
    TinyModel destination(2);
    const auto drop_last_line = [](const fs::path& weights) {
        std::string manifest = read_text(weights / "manifest.txt");
        manifest.erase(manifest.rfind('\n', manifest.size() - 2) + 1);
        write_text(weights / "manifest.txt", manifest);
    };
    check_load_fails(destination.parameters(), drop_last_line,
                     "manifest.txt: expected the 4 parameters of the model, found 3 (the first "
                     "missing one is parameter 3 'dense/bias')");
}

TEST_CASE("load_weights refuses a manifest line that names a file outside the directory") {
    TinyModel destination(2);
    const auto redirect = [](const fs::path& weights) {
        std::string manifest = read_text(weights / "manifest.txt");
        const std::size_t at = manifest.find(" dense.bias.npy ");
        manifest.replace(at, 16, " ../dense.bias.npy ");
        write_text(weights / "manifest.txt", manifest);
    };
    check_load_fails(destination.parameters(), redirect,
                     "manifest.txt: line 5: expected the file name 'dense.bias.npy' for "
                     "parameter 'dense/bias', found '../dense.bias.npy'");
}

TEST_CASE("load_weights without a save says so, and points at an interrupted save's copies") {
    cnn::testing::TempDir dir;
    TinyModel model(1);
    CHECK_THROWS_WITH_AS(cnn::load_weights(model.parameters(), dir / "weights"),
                         doctest::Contains("weights: no saved weights: the directory does not "
                                           "exist"),
                         cnn::DataError);
    // What a crash between the two renames of save_weights leaves behind.
    cnn::save_weights(model.parameters(), dir / "weights");
    fs::rename(dir / "weights", dir / "weights.old-0123abcd");
    CHECK_THROWS_WITH_AS(cnn::load_weights(model.parameters(), dir / "weights"),
                         doctest::Contains("an interrupted save_weights left weights.old-0123abcd "
                                           "beside it"),
                         cnn::DataError);
}

TEST_CASE("every input of the fuzz corpus loads, or fails with a DataError and changes nothing") {
    // tests/fuzz/corpus/weights holds the seeds of fuzz_weights and any input that once
    // crashed it. Each is a manifest, a zero byte, then the one .npy file of a model with the
    // parameter dense/kernel (2, 3), split here as tests/fuzz/fuzz_weights.cpp splits it.
    const fs::path corpus = fs::path(CNN_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "weights";
    std::size_t inputs = 0, loaded = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
        CAPTURE(entry.path());
        ++inputs;
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::size_t split = bytes.find('\0');
        cnn::testing::TempDir dir;
        std::ofstream(dir / "manifest.txt", std::ios::binary) << bytes.substr(0, split);
        if (split != std::string::npos) {
            std::ofstream(dir / "dense.kernel.npy", std::ios::binary) << bytes.substr(split + 1);
        }
        std::vector<float> values(6, 7.0f), grads(6);
        const std::vector<cnn::Parameter> parameters = {
            {"dense/kernel", values.data(), grads.data(), 6, {2, 3}}};
        try {
            cnn::load_weights(parameters, dir.path());
            ++loaded;
            if (entry.path().filename() == "valid") {
                CHECK(values == std::vector<float>{0.5f, -1.0f, 2.0f, 0.0f, 1e-3f, 3.25f});
            }
        } catch (const cnn::DataError&) {
            CHECK(values == std::vector<float>(6, 7.0f));
        }
    }
    CHECK(inputs >= 4);
    CHECK(loaded >= 1);  // the valid seed, so the fuzzer starts from a load that succeeds
}
