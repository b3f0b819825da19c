// Tests of support/io/dataset.hpp: finding and loading a split, on tiny hand-written files and on
// the committed Fashion-MNIST sample.
#include "support/io/dataset.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xview.hpp>
#include <zlib.h>

#include "support/io/checksum.hpp"
#include "support/io/idx.hpp"
#include "idx_files.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using cnn::testing::Bytes;
using cnn::testing::write_idx;

namespace {

// Two 2 x 3 images whose pixels are 0, 51, 102, 153, 204, 255 (multiples of 255/5) and their
// reverse, labelled 7 and 2.
const Bytes tiny_pixels = {0, 51, 102, 153, 204, 255, 255, 204, 153, 102, 51, 0};
const Bytes tiny_labels = {7, 2};

void write_tiny_split(const fs::path& directory, const std::string& prefix = "train") {
    write_idx(directory / (prefix + "-images-idx3-ubyte.gz"), {2, 2, 3}, tiny_pixels);
    write_idx(directory / (prefix + "-labels-idx1-ubyte.gz"), {2}, tiny_labels);
}

// Sets an environment variable for the life of the object, then restores the old value.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        setenv(name, value.c_str(), 1);
    }
    ~ScopedEnv() {
        if (old_) {
            setenv(name_, old_->c_str(), 1);
        } else {
            unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("load_split reads images as (N, 1, H, W) floats byte/255, and their labels") {
    cnn::testing::TempDir dir;
    write_tiny_split(dir.path());
    const cnn::Dataset data = cnn::load_split(dir.path(), cnn::Split::train);
    REQUIRE(data.images.shape() == std::array<std::size_t, 4>{2, 1, 2, 3});
    CHECK(data.images(0, 0, 0, 0) == 0.0f);
    CHECK(data.images(0, 0, 0, 1) == doctest::Approx(0.2));  // 51 / 255
    CHECK(data.images(0, 0, 1, 2) == 1.0f);                  // 255 / 255, row 1, column 2
    CHECK(data.images(1, 0, 0, 0) == 1.0f);
    CHECK(data.images(1, 0, 1, 1) == doctest::Approx(0.2));
    CHECK(data.labels == cnn::Labels{7, 2});
}

TEST_CASE("load_split with a limit keeps the first examples only") {
    cnn::testing::TempDir dir;
    write_tiny_split(dir.path());
    const cnn::Dataset first = cnn::load_split(dir.path(), cnn::Split::train, 1);
    REQUIRE(first.images.shape() == std::array<std::size_t, 4>{1, 1, 2, 3});
    CHECK(first.images(0, 0, 0, 1) == doctest::Approx(0.2));
    CHECK(first.labels == cnn::Labels{7});
    // A limit above the split's size keeps everything.
    CHECK(cnn::load_split(dir.path(), cnn::Split::train, 100).labels.size() == 2);
}

TEST_CASE("load_split finds the test split under the t10k- names") {
    cnn::testing::TempDir dir;
    write_tiny_split(dir.path(), "t10k");
    CHECK(cnn::load_split(dir.path(), cnn::Split::test).labels == cnn::Labels{7, 2});
    CHECK_THROWS_WITH_AS(cnn::load_split(dir.path(), cnn::Split::train),
                         doctest::Contains("no training image file"), cnn::DataError);
}

TEST_CASE("load_split accepts every spelling of the file names, gzipped or not") {
    for (const std::string separator : {"-", "."}) {
        for (const std::string extension : {".gz", ""}) {
            CAPTURE(separator);
            CAPTURE(extension);
            cnn::testing::TempDir dir;
            write_idx(dir / ("train-images" + separator + "idx3-ubyte" + extension), {2, 2, 3},
                      tiny_pixels);
            write_idx(dir / ("train-labels" + separator + "idx1-ubyte" + extension), {2},
                      tiny_labels);
            CHECK(cnn::load_split(dir.path(), cnn::Split::train).labels == cnn::Labels{7, 2});
        }
    }
}

TEST_CASE("load_split lists the spellings it tried when a file is missing") {
    cnn::testing::TempDir dir;
    write_idx(dir / "train-images-idx3-ubyte.gz", {2, 2, 3}, tiny_pixels);
    const std::string expected = dir.path().string() +
                                 ": no training label file; tried train-labels-idx1-ubyte.gz, "
                                 "train-labels-idx1-ubyte, train-labels.idx1-ubyte.gz, "
                                 "train-labels.idx1-ubyte";
    CHECK_THROWS_WITH_AS(cnn::load_split(dir.path(), cnn::Split::train),
                         doctest::Contains(expected.c_str()), cnn::DataError);
}

TEST_CASE("load_split rejects image and label files that disagree on the count") {
    cnn::testing::TempDir dir;
    write_idx(dir / "train-images-idx3-ubyte.gz", {2, 2, 3}, tiny_pixels);
    write_idx(dir / "train-labels-idx1-ubyte.gz", {3}, {1, 2, 3});
    const std::string expected = (dir / "train-images-idx3-ubyte.gz").string() +
                                 ": holds 2 images, but " +
                                 (dir / "train-labels-idx1-ubyte.gz").string() + " holds 3 labels";
    CHECK_THROWS_WITH_AS(cnn::load_split(dir.path(), cnn::Split::train),
                         doctest::Contains(expected.c_str()), cnn::DataError);
}

TEST_CASE("load_split rejects a label that is not a class index below 10") {
    cnn::testing::TempDir dir;
    write_idx(dir / "train-images-idx3-ubyte.gz", {2, 2, 3}, tiny_pixels);
    write_idx(dir / "train-labels-idx1-ubyte.gz", {2}, {9, 10});
    CHECK_THROWS_WITH_AS(cnn::load_split(dir.path(), cnn::Split::train),
                         doctest::Contains("train-labels-idx1-ubyte.gz: label 1 is 10; expected a "
                                           "class index below 10"),
                         cnn::DataError);
}

TEST_CASE("load_split detects a file that does not match its SHA256SUMS") {
    // The real sample files, copied beside a SHA256SUMS that lists a wrong hash for one.
    cnn::testing::TempDir dir;
    const fs::path sample = cnn::sample_data_directory();
    for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"}) {
        fs::copy_file(sample / name, dir / name);
    }
    const std::string right = cnn::sha256_hex(dir / "train-images-idx3-ubyte.gz");
    std::string wrong = right;
    wrong[0] = wrong[0] == '0' ? '1' : '0';
    {
        std::ofstream sums(dir / "SHA256SUMS");
        sums << wrong << "  train-images-idx3-ubyte.gz\n";
    }
    const std::string expected = (dir / "train-images-idx3-ubyte.gz").string() +
                                 ": SHA-256 mismatch: " + (dir / "SHA256SUMS").string() +
                                 " expects " + wrong + ", found " + right;
    CHECK_THROWS_WITH_AS(cnn::load_split(dir.path(), cnn::Split::train),
                         doctest::Contains(expected.c_str()), cnn::DataError);
}

TEST_CASE("require_images refuses images of another size, or too few, naming the file") {
    cnn::testing::TempDir dir;
    write_tiny_split(dir.path());  // two 2 x 3 images
    const cnn::Dataset tiny = cnn::load_split(dir.path(), cnn::Split::train);
    CHECK(tiny.image_file == dir / "train-images-idx3-ubyte.gz");
    const std::string size_error = tiny.image_file.string() +
                                   ": expected images of 28 x 28 pixels (the size of "
                                   "Fashion-MNIST's and MNIST's, which the chapters' models are "
                                   "made for), found 2 x 3";
    CHECK_THROWS_WITH_AS(cnn::require_images(tiny, 1), size_error.c_str(), cnn::DataError);

    const cnn::Dataset sample = cnn::load_split(cnn::sample_data_directory(), cnn::Split::test, 5);
    CHECK_NOTHROW(cnn::require_images(sample, 5));
    const std::string count_error =
        sample.image_file.string() + ": expected at least 6 images (six in a figure), found 5";
    CHECK_THROWS_WITH_AS(cnn::require_images(sample, 6, "six in a figure"), count_error.c_str(),
                         cnn::DataError);
}

TEST_CASE("require_images refuses images that are all one shade, naming the file") {
    // All-black data once made chapter 05 blame a plot and chapter 01 its gradient check.
    cnn::testing::TempDir dir;
    write_idx(dir / "t10k-images-idx3-ubyte", {3, 28, 28}, Bytes(3 * 28 * 28, 0));
    write_idx(dir / "t10k-labels-idx1-ubyte", {3}, {1, 2, 3});
    const cnn::Dataset black = cnn::load_split(dir.path(), cnn::Split::test);
    const std::string expected = black.image_file.string() +
                                 ": expected images with more than one shade of grey, found "
                                 "every pixel of every image 0 (black)";
    CHECK_THROWS_WITH_AS(cnn::require_images(black, 1), expected.c_str(), cnn::DataError);
}

TEST_CASE("the committed sample loads: 4000 training and 1000 test images of 28 x 28") {
    for (const cnn::Split split : {cnn::Split::train, cnn::Split::test}) {
        const std::size_t count = split == cnn::Split::train ? 4000 : 1000;
        CAPTURE(count);
        const cnn::Dataset data = cnn::load_split(cnn::sample_data_directory(), split);
        CHECK(data.images.shape() == std::array<std::size_t, 4>{count, 1, 28, 28});
        CHECK(data.labels.size() == count);
        const auto [low, high] = std::minmax_element(data.images.begin(), data.images.end());
        CHECK(*low == 0.0f);   // every Fashion-MNIST image has black background pixels
        CHECK(*high == 1.0f);  // and some image reaches full white, 255
        CHECK(std::all_of(data.labels.begin(), data.labels.end(),
                          [](std::size_t label) { return label < cnn::dataset_class_count; }));
    }
}

TEST_CASE("the committed sample's labels are the first labels of Debian's full files") {
    const fs::path debian = "/usr/share/datasets/fashion-mnist";
    const cnn::Dataset train = cnn::load_split(cnn::sample_data_directory(), cnn::Split::train);
    // The first training example of Fashion-MNIST is an ankle boot (label 9): TensorFlow's
    // "Basic classification" tutorial plots train_images[0] and shows one.
    CHECK(train.labels.front() == 9);
    if (!fs::exists(debian / "train-labels-idx1-ubyte.gz")) {
        MESSAGE("skipped the comparison with the full data: "
                << debian.string() << " is not installed (apt-get install dataset-fashion-mnist)");
        return;
    }
    const cnn::IdxArray full = cnn::read_idx(debian / "train-labels-idx1-ubyte.gz", 1);
    REQUIRE(full.dims[0] == 60000);
    CHECK(full.data.front() == train.labels.front());
    CHECK(std::equal(train.labels.begin(), train.labels.end(), full.data.begin()));
    const cnn::Dataset test = cnn::load_split(cnn::sample_data_directory(), cnn::Split::test);
    const cnn::IdxArray full_test = cnn::read_idx(debian / "t10k-labels-idx1-ubyte.gz", 1);
    CHECK(std::equal(test.labels.begin(), test.labels.end(), full_test.data.begin()));
}

TEST_CASE("find_data_directory: --data wins, and must hold data") {
    cnn::testing::TempDir dir;
    write_tiny_split(dir.path());
    CHECK(cnn::find_data_directory(dir.path(), false) == dir.path());
    CHECK(cnn::find_data_directory(dir.path(), true) == dir.path());  // even with --quick

    cnn::testing::TempDir empty;
    const std::string expected =
        empty.path().string() + " (given by --data): no file named train-images-idx3-ubyte.gz";
    CHECK_THROWS_WITH_AS(cnn::find_data_directory(empty.path(), false),
                         doctest::Contains(expected.c_str()), cnn::DataError);
    CHECK_THROWS_WITH_AS(cnn::find_data_directory(empty / "missing", false),
                         doctest::Contains("missing (given by --data): does not exist"),
                         cnn::DataError);
    CHECK_THROWS_WITH_AS(cnn::find_data_directory(dir / "train-images-idx3-ubyte.gz", false),
                         doctest::Contains("(given by --data): is not a directory"),
                         cnn::DataError);
}

TEST_CASE("find_data_directory: --quick means the committed sample") {
    CHECK(cnn::find_data_directory(std::nullopt, true) == cnn::sample_data_directory());
    CHECK(cnn::sample_data_directory() ==
          fs::path(CNN_SOURCE_DIR) / "data" / "fashion-mnist-sample");
}

TEST_CASE("find_data_directory: $CNN_DATA comes before the other places") {
    cnn::testing::TempDir dir;
    write_tiny_split(dir.path());
    const ScopedEnv env("CNN_DATA", dir.path().string());
    CHECK(cnn::find_data_directory(std::nullopt, false) == dir.path());
}

TEST_CASE("find_data_directory: a $CNN_DATA that holds no data is an error, not skipped") {
    // Falling back to another folder would train on data the user did not ask for.
    cnn::testing::TempDir dir;
    const ScopedEnv env("CNN_DATA", (dir / "nonexistent").string());
    const std::string expected =
        (dir / "nonexistent").string() + " (given by $CNN_DATA): does not exist";
    CHECK_THROWS_WITH_AS(cnn::find_data_directory(std::nullopt, false), expected.c_str(),
                         cnn::DataError);
    // --data and --quick do not read $CNN_DATA, so it does not stand in their way.
    CHECK(cnn::find_data_directory(std::nullopt, true) == cnn::sample_data_directory());
}

TEST_CASE("fashion_mnist_class_names are Fashion-MNIST's ten classes in label order") {
    // The table in Zalando Research's README (github.com/zalandoresearch/fashion-mnist).
    const auto& names = cnn::fashion_mnist_class_names();
    REQUIRE(names.size() == 10);
    const std::vector<std::string> expected = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",  // labels 0 to 4
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",      // labels 5 to 9
    };
    CHECK(std::vector<std::string>(names.begin(), names.end()) == expected);
}

TEST_CASE("load_training_data: the end of the training split held out, the test split cut, by count") {
    // The committed sample: 4000 training and 1000 test images.
    const cnn::TrainingData d = cnn::load_training_data(cnn::sample_data_directory(), 384, 128, 256);
    const cnn::Dataset train = cnn::load_split(cnn::sample_data_directory(), cnn::Split::train);
    REQUIRE(d.train.y.size() == 4000 - 128);
    REQUIRE(d.validation.y.size() == 128);
    REQUIRE(d.test.y.size() == 256);
    CHECK(d.train.x.shape(0) == d.train.y.size());
    // Validation example 0 is training example 3872.
    CHECK(d.validation.y[0] == train.labels[3872]);
    CHECK(xt::view(d.validation.x, 0) == xt::view(train.images, 3872));
    // first_examples: the first count, or all for 0 or too many.
    const cnn::Examples some = cnn::first_examples(d.train, 10);
    CHECK(some.y == cnn::Labels(d.train.y.begin(), d.train.y.begin() + 10));
    CHECK(some.x.shape(0) == 10);
    CHECK(cnn::first_examples(d.validation, 0).y.size() == 128);
    CHECK(cnn::first_examples(d.validation, 1000).y.size() == 128);
    CHECK_THROWS_WITH_AS(cnn::load_training_data(cnn::sample_data_directory(), 3900, 128, 256),
                         doctest::Contains("expected at least 4028 images (3900 to train on, 128 for validation), found 4000"),
                         cnn::DataError);
}
