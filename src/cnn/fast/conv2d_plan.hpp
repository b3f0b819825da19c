/// \file
/// \ingroup ch07
/// \brief What \ref chapter07 "chapter 07's" two convolution engines share: their options, the
/// epilogue, the backward pass's shape checks, the copy of y a fused ReLU keeps
/// (reshape_copy()), and the plan by which a batch is split between threads.
///
/// The im2col engine (conv2d_fast.hpp) and the Winograd engine (winograd.hpp) compute
/// differently, but they meet the hardware the same way. One call of either works like this:
///
/// 1. **The batch is split between threads.** Conv2DPlan cuts the N images into
///    Conv2DPlan::shares() contiguous runs, one per thread: thread t takes images
///    [N·t / shares, N·(t + 1) / shares). Each thread does everything for its images, so the
///    memory-bound steps around the products run in parallel too. Work that is not split by
///    image (filters to transform, gradients to add up) is cut the same way with
///    Conv2DPlan::part().
/// 2. **Images are grouped until a product is wide enough.** Each image gives a product some
///    columns: its OH·OW output positions (im2col) or its tiles (Winograd). A 7x7 output has
///    only 49, too few to keep the vector units busy, so a thread takes its images in groups of
///    Conv2DPlan::group() whose columns sit side by side in one matrix, until a product has at
///    least FastConvOptions::min_columns columns (or the thread runs out of images).
/// 3. **Gradient sums are kept per thread and added in thread order.** dW and db sum over every
///    image of the batch. If the threads added into one dW as they went, the order of the
///    additions, and so the float rounding, would change from run to run. Instead each thread
///    sums its own images into its own buffer (ThreadSums), and the buffers are added in thread
///    order at the end: for a given thread count every run gives the same bits; another thread
///    count changes only the order of the sums.
/// 4. **Work without sums goes to whichever thread is free.** A forward pass sums nothing
///    across images, so Conv2DPlan::run_groups() hands the same groups to the threads as they
///    become free: on a machine where one core runs slower, it simply takes fewer groups, and
///    the results are the same bits whichever thread computed them. The backward passes keep
///    the fixed shares of item 1, for item 3's sake.
///
///     const Conv2DPlan plan(n, oh * ow, options);
///     plan.run([&](std::size_t share) {           // on each thread
///         plan.for_each_group(share, [&](const ImageGroup& group) {
///             // images [group.first, group.first + group.count): one wide product
///         });
///     });
///
/// Nothing in a parallel region may throw or allocate: the engines check every shape and size
/// every buffer before they call Conv2DPlan::run().
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "cnn/fast/threads.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// What runs after the product, on each output value while it is still in cache.
enum class Epilogue {
    bias,       ///< y = W x + b
    bias_relu,  ///< y = max(0, W x + b)
};

/// What a fast convolution computes after its products, and how it splits its work.
struct FastConvOptions {
    Epilogue epilogue = Epilogue::bias;  ///< bias only, or bias then ReLU
    /// Threads to split the batch between; 0 means thread_count().
    std::size_t threads = 0;
    /// Images are grouped until a product has at least this many columns (output positions,
    /// or Winograd's tiles).
    std::size_t min_columns = 256;
};

/// The backward pass's shape checks, shared by both engines: throws std::invalid_argument
/// unless dy (and y, with Epilogue::bias_relu) have the forward's output shape `out`
/// (N, FN, OH, OW), dw has w's shape and db holds one value per filter.
/// \param dy the gradient of y
/// \param y the forward's output; checked only with Epilogue::bias_relu
/// \param w the filters (FN, C, FH, FW)
/// \param dw the filters' gradient
/// \param db the biases' gradient
/// \param out the forward's output shape (N, FN, OH, OW)
/// \param epilogue the forward's
void check_conv2d_backward_shapes(const Tensor4& dy, const Tensor4& y, const Tensor4& w,
                                  const Tensor4& dw, const Tensor1& db,
                                  const std::array<std::size_t, 4>& out, Epilogue epilogue);

/// Gives `copy` the shape of y, the forward's output, unless it has it already or is null:
/// before the parallel region, where the epilogue writes y's values into it as well.
/// \param copy the copy of y a forward pass was asked for, or null
/// \param y the forward's output
void reshape_copy(Tensor4* copy, const Tensor4& y);

/// The indices [first, last).
struct IndexRange {
    std::size_t first, last;
    /// How many indices the range holds.
    /// \return last - first
    std::size_t size() const { return last - first; }
};
/// \var IndexRange::first
/// The first index.
/// \var IndexRange::last
/// One past the last index.

/// Images [first, first + count) of the batch, computed together in one product.
struct ImageGroup {
    std::size_t first, count;
};
/// \var ImageGroup::first
/// The group's first image in the batch.
/// \var ImageGroup::count
/// How many images the group holds, at least 1.

/// How one call of a fast convolution splits its batch: Conv2DPlan::shares() threads, each
/// taking its contiguous run of images Conv2DPlan::group() at a time.
class Conv2DPlan {
public:
    /// A batch of `images` images, each giving a product `columns_per_image` columns (at least
    /// 1): as many shares as FastConvOptions::threads asks, but no more than images; groups of
    /// enough images for FastConvOptions::min_columns columns, but no more than a share holds.
    /// \param images N, the batch's images
    /// \param columns_per_image the product's columns per image, at least 1
    /// \param options the threads and the columns wanted per product
    Conv2DPlan(std::size_t images, std::size_t columns_per_image, const FastConvOptions& options);

    /// How many threads share the batch.
    /// \return at least 1, at most the number of images (unless there are none)
    std::size_t shares() const { return shares_; }
    /// Images per group; a share's last group may hold fewer.
    /// \return at least 1
    std::size_t group() const { return group_; }

    /// Share `share`'s part of `count` things: [count·share / shares, count·(share + 1) / shares).
    /// Consecutive shares take consecutive parts, which together cover [0, count).
    /// \param count how many things are shared out
    /// \param share which share, below shares()
    /// \return the share's part
    IndexRange part(std::size_t count, std::size_t share) const {
        return {count * share / shares_, count * (share + 1) / shares_};
    }
    /// The images of share `share`.
    /// \param share which share, below shares()
    /// \return its images, consecutive
    IndexRange images(std::size_t share) const { return part(images_, share); }

    /// Calls body(share) for every share, each on its own thread (run_shares()). When there are
    /// several, OpenBLAS is first kept on one thread (keep_blas_on_one_thread()): the threads are
    /// ours, one BLAS thread inside each. `body` must not throw.
    /// \tparam Body callable as body(std::size_t share)
    /// \param body the work of one share
    template <class Body>
    void run(const Body& body) const {
        if (shares_ > 1) {
            keep_blas_on_one_thread();
        }
        run_shares(shares_, body);
    }

    /// Calls body(group, share) for every group of every share (for_each_group()'s groups), on
    /// the plan's threads, each thread taking the next group whenever it is free (run_items()):
    /// a thread that runs slower takes fewer groups. Which thread computes a group changes from
    /// run to run, so this is for work without per-thread sums, such as a forward pass; `share`
    /// says whose scratch to use. `body` must not throw.
    /// \tparam Body callable as body(ImageGroup group, std::size_t share)
    /// \param body the work of one group
    template <class Body>
    void run_groups(const Body& body) const {
        const std::size_t most = (images_ + shares_ - 1) / shares_;  // no share holds more
        const std::size_t per_share = (most + group_ - 1) / group_;  // groups, at most
        if (shares_ > 1) {
            keep_blas_on_one_thread();
        }
        // Item i is group i % per_share of share i / per_share, if that share has it.
        run_items(shares_ * per_share, shares_, [&](std::size_t item, std::size_t share) {
            const ImageGroup group = group_of(item / per_share, item % per_share);
            if (group.count > 0) {
                body(group, share);
            }
        });
    }

    /// Calls body(group) for the groups of share `share`'s images, in order.
    /// \tparam Body callable as body(ImageGroup group)
    /// \param share which share, below shares()
    /// \param body the work of one group
    template <class Body>
    void for_each_group(std::size_t share, const Body& body) const {
        for (std::size_t g = 0;; ++g) {
            const ImageGroup group = group_of(share, g);
            if (group.count == 0) {
                return;
            }
            body(group);
        }
    }

    /// Group g of share `share`: at most group() images from the share's first + g·group();
    /// none (count 0) past the share's last image.
    /// \param share which share, below shares()
    /// \param g which of its groups
    /// \return the group's images
    ImageGroup group_of(std::size_t share, std::size_t g) const {
        const IndexRange mine = images(share);
        const std::size_t first = mine.first + g * group_;
        return {first, first < mine.last ? std::min(group_, mine.last - first) : 0};
    }

private:
    std::size_t images_, shares_, group_;
};

/// Grows `buffer` to `size` floats when it holds fewer, to exactly that capacity (resize()
/// alone may double it), and never shrinks it: the workspaces' rule, so that a training loop
/// allocates once and a workspace shared by several layers keeps the largest call's size.
/// \param buffer the buffer
/// \param size the floats the next call needs
inline void grow_to(std::vector<float>& buffer, std::size_t size) {
    if (buffer.size() < size) {
        buffer.reserve(size);
        buffer.resize(size);
    }
}

/// One sum per thread, such as each thread's share of dW, added together in thread order at the
/// end: for a given thread count, the same bits on every run. The buffers are kept between calls
/// and grow only, so a training loop allocates them once; a call that needs less than an earlier
/// one (a smaller layer sharing them) uses the first `size` floats of each.
class ThreadSums {
public:
    /// Makes `shares` sums of `size` floats each (their values are set by zeroed()).
    /// \param shares how many threads, at least 1
    /// \param size floats per sum
    void resize(std::size_t shares, std::size_t size);

    /// Share `share`'s sum, set to zero: what its thread adds its images' terms to.
    /// \param share which share, below the count given to resize()
    /// \return its buffer: the first `size` floats (resize()) are zero
    float* zeroed(std::size_t share) {
        std::fill_n(sums_[share].begin(), size_, 0.0f);
        return sums_[share].data();
    }

    /// Share `share`'s sum as it is, for a thread whose first write overwrites it all (a
    /// product with beta = 0) instead of adding to zeros.
    /// \param share which share, below the count given to resize()
    /// \return its buffer, whose first `size` floats (resize()) are the share
    float* share(std::size_t share) { return sums_[share].data(); }

    /// total[i] += share 0's value i, then share 1's, and so on, for every i < the size given
    /// to resize().
    /// \param total the buffer added to, of the size given to resize()
    void add_to(float* total) const;

    /// out[i] = share 0's value offset + i, plus share 1's, and so on in thread order, for
    /// i < count: for sums that need work before they are added (Winograd's dW).
    /// \param offset the first value summed
    /// \param count how many values, offset + count at most the size given to resize()
    /// \param out receives the count sums
    void sum(std::size_t offset, std::size_t count, float* out) const {
        const float* first = sums_[0].data() + offset;
        std::copy(first, first + count, out);
        for (std::size_t t = 1; t < shares_; ++t) {
            const float* theirs = sums_[t].data() + offset;
            for (std::size_t i = 0; i < count; ++i) {
                out[i] += theirs[i];
            }
        }
    }

    /// The memory of the buffers.
    /// \return their bytes (their capacity)
    std::size_t bytes() const {
        std::size_t floats = 0;
        for (const std::vector<float>& s : sums_) {
            floats += s.capacity();
        }
        return floats * sizeof(float);
    }

private:
    std::vector<std::vector<float>> sums_;  // one buffer per thread: no thread writes another's
    std::size_t shares_ = 0;
    std::size_t size_ = 0;  // floats of each sum in use: the front of each buffer
};

}  // namespace cnn
