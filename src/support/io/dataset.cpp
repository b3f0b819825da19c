#include "support/io/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <xtensor/xview.hpp>

#include "support/io/checksum.hpp"
#include "support/io/idx.hpp"

// The build passes the absolute path of the source tree, so that programs and tests find
// the committed sample wherever they are run from.
#ifndef CNN_SOURCE_DIR
#error "CNN_SOURCE_DIR must be defined as the source tree's path, e.g. -DCNN_SOURCE_DIR='\"/src\"'"
#endif

namespace cnn {

namespace {

// Where Debian's dataset-fashion-mnist package installs the full data.
const char* const debian_data_directory = "/usr/share/datasets/fashion-mnist";

enum class Kind { images, labels };

// The four spellings a file goes by, in the order they are tried, e.g. for training images:
// train-images-idx3-ubyte.gz, train-images-idx3-ubyte, train-images.idx3-ubyte.gz,
// train-images.idx3-ubyte. The first two are the names the dataset is published under; the
// other two are how some redistributed copies spell them.
std::vector<std::string> spellings(Split split, Kind kind) {
    const std::string prefix = split == Split::train ? "train-" : "t10k-";
    const std::string what = kind == Kind::images ? "images" : "labels";
    const std::string format = kind == Kind::images ? "idx3-ubyte" : "idx1-ubyte";
    std::vector<std::string> names;
    for (const char* separator : {"-", "."}) {
        for (const char* extension : {".gz", ""}) {
            names.push_back(prefix + what + separator + format + extension);
        }
    }
    return names;
}

std::string join(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
        text += (i == 0 ? "" : ", ") + names[i];
    }
    return text;
}

// The first spelling that names a regular file in `directory` (a symbolic link to one counts).
std::optional<std::filesystem::path> find_file(const std::filesystem::path& directory, Split split,
                                               Kind kind) {
    for (const std::string& name : spellings(split, kind)) {
        std::error_code error;  // an unreadable directory counts as "not found"
        if (std::filesystem::is_regular_file(directory / name, error)) {
            return directory / name;
        }
    }
    return std::nullopt;
}

// What is wrong with `directory` as a place to look for files, or "" if nothing is.
std::string directory_problem(const std::filesystem::path& directory) {
    std::error_code error;
    if (!std::filesystem::exists(directory, error)) {
        return "does not exist";
    }
    if (!std::filesystem::is_directory(directory, error)) {
        return "is not a directory";
    }
    return "";
}

// Why `directory` holds no training images, or "" if it does.
std::string why_no_data(const std::filesystem::path& directory) {
    const std::string problem = directory_problem(directory);
    if (!problem.empty()) {
        return problem;
    }
    if (!find_file(directory, Split::train, Kind::images)) {
        return "no file named " + join(spellings(Split::train, Kind::images));
    }
    return "";
}

std::filesystem::path find_or_fail(const std::filesystem::path& directory, Split split, Kind kind) {
    const std::optional<std::filesystem::path> file = find_file(directory, split, kind);
    if (!file) {
        const std::string problem = directory_problem(directory);
        throw DataError(directory.string() + ": " +
                        (problem.empty() ? "" : problem + ", so it has ") + "no " +
                        (split == Split::train ? "training" : "test") + " " +
                        (kind == Kind::images ? "image" : "label") + " file; tried " +
                        join(spellings(split, kind)));
    }
    return *file;
}

}  // namespace

Dataset load_split(const std::filesystem::path& directory, Split split, std::size_t limit) {
    const std::filesystem::path image_file = find_or_fail(directory, split, Kind::images);
    const std::filesystem::path label_file = find_or_fail(directory, split, Kind::labels);
    verify_against_sums(image_file);
    verify_against_sums(label_file);
    const IdxArray images = read_idx(image_file, 3);  // (N, H, W)
    const IdxArray labels = read_idx(label_file, 1);  // (N)

    const std::size_t count = images.dims[0];
    if (labels.dims[0] != count) {
        throw DataError(image_file.string() + ": holds " + std::to_string(count) + " images, but " +
                        label_file.string() + " holds " + std::to_string(labels.dims[0]) +
                        " labels; expected one label per image");
    }
    for (std::size_t n = 0; n < count; ++n) {
        if (labels.data[n] >= dataset_class_count) {
            throw DataError(label_file.string() + ": label " + std::to_string(n) + " is " +
                            std::to_string(labels.data[n]) + "; expected a class index below " +
                            std::to_string(dataset_class_count));
        }
    }

    // Keep the first `limit` examples. The whole files were read all the same: only then
    // are their sizes and checksums known to be right.
    const std::size_t kept = limit > 0 && limit < count ? limit : count;
    const std::size_t height = images.dims[1];
    const std::size_t width = images.dims[2];
    Dataset dataset;
    dataset.images = Tensor4::from_shape({kept, 1, height, width});
    // Both are row-major with the same element order, so pixel i of the file is element i of
    // the tensor. Bytes 0..255 become floats 0..1.
    float* pixels = dataset.images.data();
    for (std::size_t i = 0; i < kept * height * width; ++i) {
        pixels[i] = static_cast<float>(images.data[i]) / 255.0f;
    }
    dataset.labels.assign(labels.data.begin(),
                          labels.data.begin() + static_cast<std::ptrdiff_t>(kept));
    dataset.image_file = image_file;
    return dataset;
}

void require_images(const Dataset& data, std::size_t at_least, const std::string& why) {
    const std::size_t height = data.images.shape(2), width = data.images.shape(3);
    if (height != dataset_image_side || width != dataset_image_side) {
        throw DataError(data.image_file.string() + ": expected images of " +
                        std::to_string(dataset_image_side) + " x " +
                        std::to_string(dataset_image_side) + " pixels (the size of " +
                        "Fashion-MNIST's and MNIST's, which the chapters' models are made " +
                        "for), found " + std::to_string(height) + " x " + std::to_string(width));
    }
    const std::size_t count = data.labels.size();
    if (count < at_least) {
        throw DataError(data.image_file.string() + ": expected at least " +
                        std::to_string(at_least) + " images" +
                        (why.empty() ? "" : " (" + why + ")") + ", found " + std::to_string(count));
    }
    // One shade everywhere (all black, say) leaves nothing to learn or to draw: training, the
    // gradient check and the plots would all fail, each blaming itself.
    if (data.images.size() > 0) {
        const auto [low, high] = std::minmax_element(data.images.begin(), data.images.end());
        if (*low == *high) {
            const auto byte = static_cast<int>(std::lround(*low * 255.0f));
            throw DataError(data.image_file.string() +
                            ": expected images with more than one shade of grey, found every " +
                            "pixel of every image " + std::to_string(byte) +
                            (byte == 0     ? " (black)"
                             : byte == 255 ? " (white)"
                                           : ""));
        }
    }
}

namespace {

Examples take_range(const Tensor4& x, const Labels& y, std::size_t begin, std::size_t count) {
    return {Tensor4(xt::view(x, xt::range(begin, begin + count))),
            Labels(y.begin() + static_cast<std::ptrdiff_t>(begin),
                   y.begin() + static_cast<std::ptrdiff_t>(begin + count))};
}

}  // namespace

Examples first_examples(const Examples& examples, std::size_t count) {
    const std::size_t n = examples.y.size();
    return take_range(examples.x, examples.y, 0, count == 0 ? n : std::min(count, n));
}

TrainingData load_training_data(const std::filesystem::path& directory, std::size_t train,
                                std::size_t validation, std::size_t test) {
    const Dataset train_split = load_split(directory, Split::train);
    const Dataset test_split = load_split(directory, Split::test);
    require_images(train_split, train + validation,
                   std::to_string(train) + " to train on, " + std::to_string(validation) +
                       " for validation");
    require_images(test_split, test);
    const std::size_t n = train_split.labels.size();
    return {take_range(train_split.images, train_split.labels, 0, n - validation),
            take_range(train_split.images, train_split.labels, n - validation, validation),
            take_range(test_split.images, test_split.labels, 0, test)};
}

std::filesystem::path sample_data_directory() {
    return std::filesystem::path(CNN_SOURCE_DIR) / "data" / "fashion-mnist-sample";
}

std::filesystem::path find_data_directory(const std::optional<std::filesystem::path>& flag,
                                          bool quick) {
    if (flag) {
        const std::string why = why_no_data(*flag);
        if (!why.empty()) {
            throw DataError(flag->string() + " (given by --data): " + why);
        }
        return *flag;
    }
    if (quick) {
        const std::filesystem::path sample = sample_data_directory();
        const std::string why = why_no_data(sample);
        if (!why.empty()) {
            throw DataError(sample.string() + " (the committed sample for --quick runs): " + why +
                            "; regenerate it with data/make_sample.py");
        }
        return sample;
    }

    // $CNN_DATA, when set, is a choice like --data: a folder without data is an error, not
    // a reason to train on whatever data another place holds.
    const char* environment = std::getenv("CNN_DATA");
    if (environment != nullptr && *environment != '\0') {
        const std::string why = why_no_data(environment);
        if (!why.empty()) {
            throw DataError(std::string(environment) + " (given by $CNN_DATA): " + why);
        }
        return environment;
    }

    // The search, first match wins. Each place that is skipped says why, for the message.
    std::vector<std::pair<std::string, std::filesystem::path>> places;  // (label, directory)
    std::string tried = "\n  $CNN_DATA: not set";
    places.emplace_back("source tree", std::filesystem::path(CNN_SOURCE_DIR) / "data");
    places.emplace_back("Debian's dataset-fashion-mnist", debian_data_directory);
    for (const auto& [label, directory] : places) {
        const std::string why = why_no_data(directory);
        if (why.empty()) {
            return directory;
        }
        tried += "\n  " + directory.string() + " (" + label + "): " + why;
    }
    throw DataError(
        "no Fashion-MNIST data found; looked in:" + tried +
        "\nInstall it with `apt-get install dataset-fashion-mnist`, point $CNN_DATA or "
        "`--data DIR` at a directory holding the IDX files, or use `--quick` for the small "
        "committed sample.");
}

const std::array<const char*, dataset_class_count>& fashion_mnist_class_names() {
    static const std::array<const char*, dataset_class_count> names = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

}  // namespace cnn
