/// \file
/// \ingroup ch01
/// \brief A seeded random number generator whose sequences are the same on every machine.
///
/// The standard library fixes the bits `std::mt19937_64` produces but not what its
/// distributions make of them, so `std::normal_distribution` may give different numbers with
/// another standard library. The book wants a run with `--seed 42` to print the same numbers
/// everywhere, so the few distributions it needs are written out here on top of the
/// engine's raw bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace cnn {

/// Seeded generator: uniform and normal floats, bounded integers and permutations.
class Rng {
public:
    /// A generator whose numbers depend on `seed` alone.
    /// \param seed the engine's seed
    explicit Rng(std::uint64_t seed) : engine_(seed) {}

    /// Uniform in [0, 1), with 24 random bits (all a `float` mantissa holds).
    /// \return a float in [0, 1)
    float uniform();
    /// Uniform in [lo, hi).
    /// \param lo the lower bound, included
    /// \param hi the upper bound, excluded; above lo
    /// \return a float in [lo, hi)
    float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
    /// Standard normal (mean 0, variance 1) by the Box-Muller transform.
    /// \return a float from N(0, 1)
    float normal();
    /// Uniform integer in [0, n), without modulo bias. `n` must be positive.
    /// \param n the bound, at least 1
    /// \return an integer in [0, n)
    /// \throws std::invalid_argument for n = 0
    std::size_t below(std::size_t n);
    /// A uniformly random permutation of 0, 1, ..., n-1 (Fisher-Yates).
    /// \param n how many numbers
    /// \return 0 .. n-1 in a random order
    std::vector<std::size_t> permutation(std::size_t n);

    /// The raw engine, for code that saves or restores the generator's state.
    /// \return the engine
    std::mt19937_64& engine() { return engine_; }

    /// Everything that decides the numbers still to come, as one line of text: the engine's
    /// state as `operator<<` writes it (312 numbers and a position), then the spare normal
    /// that normal() keeps for its next call (a flag and the float's bits in hex). A
    /// generator given this text by set_state() continues exactly where this one is.
    /// \return the state, one line
    std::string state() const;
    /// Restores a state written by state(). Throws std::invalid_argument, leaving the
    /// generator unchanged, if the text is not such a state.
    /// \param text a line state() wrote
    void set_state(const std::string& text);

private:
    std::mt19937_64 engine_;
    bool has_spare_normal_ = false;
    float spare_normal_ = 0.0f;
};

}  // namespace cnn
