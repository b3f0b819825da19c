/// \file
/// \ingroup ch07
/// \brief How many threads the library uses, and keeping OpenBLAS on one of them.
///
/// Two libraries could split work between the cores: OpenBLAS inside every matrix product, and
/// this library over the images of a batch (OpenMP). Using both at once puts four busy threads
/// on two cores. \ref chapter07 "Chapter 07" chooses the batch: each thread runs whole images
/// (im2col, product, bias, ReLU, col2im) on single-threaded BLAS, so the memory-bound steps run in
/// parallel too and each thread's scratch matrix stays in its own core's cache.
///
/// The thread count is OpenMP's: the environment variable OMP_NUM_THREADS, or
/// set_thread_count(), or else one per core.
#pragma once

#include <atomic>
#include <cstddef>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace cnn {

/// The number of threads parallel code in this library uses (at least 1).
/// \return OpenMP's thread count (set_thread_count() sets it); 1 without OpenMP
std::size_t thread_count();

/// Sets the number of threads parallel code in this library uses; 0 means one per core.
/// \param threads the count; 0 for one per core (ignored without OpenMP)
void set_thread_count(std::size_t threads);

/// Whether the library was built with OpenMP; without it every loop runs on one thread.
/// \return true with OpenMP
bool has_openmp();

/// Calls body(share) for share = 0 .. shares - 1, each share on its own thread when there are
/// enough (OpenMP), the shares in order on one thread without OpenMP. `body` must not throw:
/// an exception cannot leave a parallel region, so check every input before.
/// \tparam Body callable as body(std::size_t share)
/// \param shares how many calls
/// \param body the work of one share
template <class Body>
void run_shares(std::size_t shares, const Body& body) {
#ifdef _OPENMP
#pragma omp parallel num_threads(static_cast<int>(shares))
    {
        // OpenMP may start fewer threads than asked; the shares are then dealt round-robin.
        const auto threads = static_cast<std::size_t>(omp_get_num_threads());
        for (auto share = static_cast<std::size_t>(omp_get_thread_num()); share < shares;
             share += threads) {
            body(share);
        }
    }
#else
    for (std::size_t share = 0; share < shares; ++share) {
        body(share);
    }
#endif
}

/// Below this many values per thread, a loop runs on fewer threads: starting and joining a
/// thread costs more than it saves on less (PyTorch's grain size for element-wise loops).
constexpr std::size_t min_values_per_thread = 32768;

/// Splits the items 0 .. count - 1 into contiguous ranges, one per thread, and calls
/// body(first, last) for each range [first, last) on its own thread (run_shares()). `values`
/// is how many values the whole loop reads and writes: with fewer than min_values_per_thread
/// per thread it uses fewer threads, down to one. `body` must not throw.
/// \tparam Body callable as body(std::size_t first, std::size_t last)
/// \param count how many items
/// \param values how many values the loop reads and writes
/// \param body the work of one range
template <class Body>
void run_ranges(std::size_t count, std::size_t values, const Body& body) {
    std::size_t shares = thread_count();
    shares = shares < count ? shares : count;
    const std::size_t worth = values / min_values_per_thread;
    shares = shares < worth ? shares : worth;
    if (shares <= 1) {
        body(std::size_t{0}, count);
        return;
    }
    run_shares(shares, [&](std::size_t share) {
        body(count * share / shares, count * (share + 1) / shares);
    });
}

/// Calls body(item, share) for item = 0 .. count - 1 on `shares` threads (run_shares()), each
/// thread taking the next item whenever it is free: a thread that runs slower, or starts later,
/// simply takes fewer. Which thread runs an item changes from run to run, so each item's work
/// must not depend on it (no per-thread sums); `share` only says whose scratch to use.
/// `body` must not throw.
/// \tparam Body callable as body(std::size_t item, std::size_t share)
/// \param count how many items
/// \param shares how many threads take them
/// \param body the work of one item
template <class Body>
void run_items(std::size_t count, std::size_t shares, const Body& body) {
    std::atomic<std::size_t> next{0};
    run_shares(shares, [&](std::size_t share) {
        for (std::size_t item = next++; item < count; item = next++) {
            body(item, share);
        }
    });
}

/// Puts OpenBLAS on one thread, for the rest of the process. The fast convolution calls it when
/// it splits a batch between threads: from then on every product, the Dense layers' too, runs
/// on one thread. Switching OpenBLAS between one and several threads around every convolution
/// cost more than the small Dense products gain from a second thread (on the machine that
/// wrote \ref chapter07 "chapter 07", a Dense forward pass of the seed model took about 7 ms that
/// way and under 1 ms on one thread). OpenBLAS's OpenMP build needs nothing: inside a parallel
/// region it runs on one thread by itself, so it is left alone.
void keep_blas_on_one_thread();

/// While alive, OpenBLAS uses `threads` threads; the previous count comes back afterwards.
/// For measurements that want BLAS's own threading, such as \ref chapter04 "chapter 04's" im2col.
class ScopedBlasThreads {
public:
    /// Sets OpenBLAS's thread count, remembering the previous one.
    /// \param threads OpenBLAS's thread count while this object lives
    explicit ScopedBlasThreads(std::size_t threads);
    ~ScopedBlasThreads();
    ScopedBlasThreads(const ScopedBlasThreads&) = delete;
    ScopedBlasThreads& operator=(const ScopedBlasThreads&) = delete;

private:
    int previous_;
};

}  // namespace cnn
