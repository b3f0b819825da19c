/// \file
/// \ingroup ch07
/// \brief The fast engines, as the layers take them: Conv2D's (im2col engine or Winograd,
/// chosen per layer) and MaxPooling2D's (chapter 05's loops split between threads).
///
/// Chapter 04's Conv2D and chapter 05's MaxPooling2D compute through an engine they are
/// handed (layers/conv2d.hpp, layers/pooling2d.hpp). This header makes the fast ones:
///
///     cnn::use_fast_engines();   // every layer built from now on, in this process
///     model.add(Conv2D(64, 3).engine(cnn::fast_conv2d_engine()));   // or one layer
///
/// The values are the same as the chapters' engines compute, up to float rounding for the
/// convolution (the tests hold both to the naive loops) and bit for bit for max pooling.
#pragma once

#include "cnn/fast/conv2d_fast.hpp"
#include "cnn/layers/conv2d.hpp"
#include "cnn/layers/pooling2d.hpp"

namespace cnn {

/// A factory of chapter 07's convolution engine with `options` (the Epilogue is the layer's
/// to choose: the engine fuses the ReLU when the layer has one).
Conv2DEngineFactory fast_conv2d_engine(const FastConvOptions& options = {});

/// A factory of the threaded max pooling engine; `threads` 0 means thread_count().
MaxPooling2DEngineFactory fast_max_pooling2d_engine(std::size_t threads = 0);

/// Makes the fast engines the default of every Conv2D and MaxPooling2D layer built from now
/// on in this process (set_default_conv2d_engine(), set_default_max_pooling2d_engine()).
void use_fast_engines(const FastConvOptions& options = {});

}  // namespace cnn
