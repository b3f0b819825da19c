/// \file
/// \ingroup support
/// \brief DataError: what every reader of files throws on bad input.
#pragma once

#include <stdexcept>

namespace cnn {

/// A data file (IDX, checksum list, .npy, weights, checkpoint, dataset directory) is missing,
/// unreadable or malformed. The message starts with the path of the file in question, then
/// says what was expected and what was found.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace cnn
