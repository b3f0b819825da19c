/// \file
/// \ingroup support
/// \brief Fashion-MNIST (or MNIST) as tensors: finding the files and loading a split.
///
/// A split is a pair of IDX files in one directory, images and labels:
///
/// | split | images                      | labels                      |
/// |-------|-----------------------------|-----------------------------|
/// | train | `train-images-idx3-ubyte.gz` | `train-labels-idx1-ubyte.gz` |
/// | test  | `t10k-images-idx3-ubyte.gz`  | `t10k-labels-idx1-ubyte.gz`  |
///
/// Copies found in the wild are spelled `train-images-idx3-ubyte` or
/// `train-images.idx3-ubyte`, gzipped or not; all four spellings are accepted.
///
/// Where the data comes from, in the order find_data_directory() looks:
/// `--data DIR`, then `$CNN_DATA`, then `data/` in the source tree, then Debian's
/// `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`). A `--quick` run
/// uses the small sample committed in `data/fashion-mnist-sample` (4000 training and 1000
/// test images). MNIST digits, in the same format, load the same way from `--data DIR`.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Images and their labels.
struct Dataset {
    Tensor4 images;                    ///< (N, 1, H, W), each pixel byte/255, so in [0, 1]
    Labels labels;                     ///< N class indices, each below dataset_class_count
    std::filesystem::path image_file;  ///< the file the images came from, for messages
};

/// Which half of the dataset: 60000 training or 10000 test examples in the full data.
enum class Split { train, test };

/// Number of classes in Fashion-MNIST (and in MNIST): labels are 0..9.
inline constexpr std::size_t dataset_class_count = 10;

/// The height and width of the images every chapter's models and figures are made for:
/// 28 pixels, as in Fashion-MNIST and MNIST.
inline constexpr std::size_t dataset_image_side = 28;

/// Loads one split from `directory`: finds its image and label files under any of the
/// accepted spellings, checks each against `SHA256SUMS` when the directory has one (see
/// verify_against_sums()), reads both, and checks they agree. If `limit` > 0, only the first
/// `limit` examples are kept (all of them if the split has fewer).
///
/// Throws DataError if a file is missing (the message lists the spellings tried), fails its
/// checksum or is malformed, if the image and label counts differ, or if a label is not
/// below dataset_class_count.
/// \param directory the folder holding the dataset's files
/// \param split train or test
/// \param limit how many examples to keep at most; 0 for all
/// \return the images (N, 1, H, W) and labels
Dataset load_split(const std::filesystem::path& directory, Split split, std::size_t limit = 0);

/// Checks that `data` holds images a program can use: of dataset_image_side x
/// dataset_image_side pixels, at least `at_least` of them, and not all of one shade.
/// load_split() reads any size; a program calls this before the first use, so that unusable
/// data is refused up front instead of failing deep inside a model, or drawing nonsense,
/// after minutes of work. `why` (for example "500 are held out for validation") completes
/// the count's message.
///
/// Throws DataError naming `data.image_file`, what was expected and what was found.
/// \param data the loaded split
/// \param at_least the fewest images the program can work with
/// \param why appended to the message about too few images
void require_images(const Dataset& data, std::size_t at_least, const std::string& why = "");

/// Some examples a model trains on or is measured on: images and their labels.
struct Examples {
    Tensor4 x;  ///< images (N, 1, H, W)
    Labels y;   ///< N labels
};

/// The first `count` of `examples`, copied: all of them for 0 or when there are fewer.
/// \param examples where they come from
/// \param count how many to take; 0 for all
/// \return the first min(count, N) examples
Examples first_examples(const Examples& examples, std::size_t count);

/// The three parts a training program works with.
struct TrainingData {
    Examples train;       ///< what it trains on: the training split but its end
    Examples validation;  ///< the end of the training split, never trained on
    Examples test;        ///< the start of the test split, only measured
};

/// Loads both splits from `directory` and divides them: the last `validation` training
/// examples become the validation part, the ones before them the training part, and the
/// first `test` test examples the test part. The splits must hold at least `train` +
/// `validation` and `test` images (require_images(), which names the file and the numbers).
/// \param directory the folder holding the dataset's files (find_data_directory())
/// \param train how many examples the program trains on at most: the fewest it accepts
/// \param validation how many to hold out of the training split's end
/// \param test how many test examples to keep
/// \return the three parts
/// \throws DataError as load_split() and require_images() do
TrainingData load_training_data(const std::filesystem::path& directory, std::size_t train,
                                std::size_t validation, std::size_t test);

/// The directory of the committed sample, `<source dir>/data/fashion-mnist-sample`.
/// \return the path, under the source directory the library was built from
std::filesystem::path sample_data_directory();

/// Decides where a program reads its data from.
///
/// - `flag` (the program's `--data DIR`) given: that directory, which must hold the training
///   files;
/// - else `quick` (a `--quick` run): the committed sample, sample_data_directory();
/// - else `$CNN_DATA` if it is set, which must then hold the training files;
/// - else the first of `<source dir>/data` and `/usr/share/datasets/fashion-mnist` that holds
///   the training images.
///
/// Throws DataError if the chosen directory holds no data; when no place in the search does,
/// the message lists each place and why it was skipped, and says how to get the data.
/// \param flag the `--data` directory, if given
/// \param quick whether the run is a `--quick` one
/// \return the directory to read from
std::filesystem::path find_data_directory(const std::optional<std::filesystem::path>& flag,
                                          bool quick);

/// The names of Fashion-MNIST's ten classes, indexed by label: "T-shirt/top", "Trouser", ...
/// \return the ten names
const std::array<const char*, dataset_class_count>& fashion_mnist_class_names();

}  // namespace cnn
