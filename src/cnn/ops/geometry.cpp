#include "cnn/ops/geometry.hpp"

#include <fmt/format.h>

namespace cnn {

namespace {

/// "(28 + 2*2 - 5)" or "(6 + 0 + 1 - 3)", with the letters: "(H + 2P - FH)" or
/// "(H + P_before + P_after - FH)".
struct Numerator {
    std::string letters;
    std::string numbers;
};

Numerator numerator(const AxisGeometry& a, const std::string& n) {
    if (a.padding.before == a.padding.after) {
        return {fmt::format("({} + 2P - F{})", n, n),
                fmt::format("({} + 2*{} - {})", a.input, a.padding.before, a.kernel)};
    }
    return {fmt::format("({} + P_before + P_after - F{})", n, n),
            fmt::format("({} + {} + {} - {})", a.input, a.padding.before, a.padding.after,
                        a.kernel)};
}

}  // namespace

std::string explain_output_size(const AxisGeometry& a, SizePolicy policy,
                                const std::string& n) {
    const Numerator num = numerator(a, n);
    const std::size_t padded = a.input + a.padding.total();
    const std::string head = fmt::format("O{} = {} / S + 1 = {} / {} + 1", n, num.letters,
                                         num.numbers, a.stride);
    if (a.stride == 0) {
        return head + ": the stride S must be at least 1, got 0";
    }
    if (a.kernel == 0) {
        return fmt::format("{}: the window F{} must be at least 1, got 0", head, n);
    }
    if (a.kernel > padded) {
        return fmt::format("{}: the window F{} = {} does not fit in the padded input {} + {} = {}",
                           head, n, a.kernel, a.input, a.padding.total(), padded);
    }
    const std::size_t span = padded - a.kernel;  // how far the window can move
    const std::size_t quotient = span / a.stride, remainder = span % a.stride;
    if (remainder == 0) {
        return fmt::format("{} = {} / {} + 1 = {}", head, span, a.stride, quotient + 1);
    }
    const double exact = static_cast<double>(span) / static_cast<double>(a.stride) + 1.0;
    if (policy == SizePolicy::strict) {
        return fmt::format(
            "{} = {} / {} + 1 = {:.4g}, not a whole number: {} is not a multiple of the stride {}, "
            "so the windows do not tile the padded input (rounding down, as PyTorch and Keras "
            "do, would give {} and leave the last {} {} unused)",
            head, span, a.stride, exact, span, a.stride, quotient + 1, remainder,
            n == "H" ? (remainder == 1 ? "row" : "rows") : (remainder == 1 ? "column" : "columns"));
    }
    return fmt::format("O{} = floor({} / S) + 1 = floor({} / {}) + 1 = floor({} / {}) + 1 = {}; "
                       "the last {} {} of the padded input {} never covered",
                       n, num.letters, num.numbers, a.stride, span, a.stride, quotient + 1,
                       remainder,
                       n == "H" ? (remainder == 1 ? "row" : "rows")
                                : (remainder == 1 ? "column" : "columns"),
                       remainder == 1 ? "is" : "are");
}

std::size_t conv_output_size(const AxisGeometry& a, SizePolicy policy) {
    const std::size_t padded = a.input + a.padding.total();
    const bool impossible = a.stride == 0 || a.kernel == 0 || a.kernel > padded;
    if (impossible || (policy == SizePolicy::strict && (padded - a.kernel) % a.stride != 0)) {
        throw GeometryError(explain_output_size(a, policy));
    }
    return (padded - a.kernel) / a.stride + 1;
}

AxisPadding keras_padding(PaddingMode mode, std::size_t input, std::size_t kernel,
                          std::size_t stride) {
    if (input == 0 || stride == 0 || kernel == 0) {
        throw GeometryError(fmt::format("keras_padding: expected input, kernel and stride >= 1, "
                                        "got input {}, kernel {} and stride {}",
                                        input, kernel, stride));
    }
    if (mode == PaddingMode::valid) {
        return {0, 0};
    }
    const std::size_t out = (input + stride - 1) / stride;  // ceil(H / S)
    const std::size_t needed = (out - 1) * stride + kernel;  // rows the windows span
    const std::size_t total = needed > input ? needed - input : 0;
    return {total / 2, total - total / 2};
}

Conv2DGeometry Conv2DGeometry::keras(PaddingMode mode, std::size_t h, std::size_t w,
                                     std::size_t fh, std::size_t fw, std::size_t sr,
                                     std::size_t sc) {
    Conv2DGeometry g;
    g.stride_rows = sr;
    g.stride_cols = sc;
    g.pad_rows = keras_padding(mode, h, fh, sr);
    g.pad_cols = keras_padding(mode, w, fw, sc);
    g.policy = SizePolicy::floor;  // 'valid' with stride > 1 rounds down in Keras
    return g;
}

PaddingMode parse_padding(const std::string& mode) {
    if (mode == "valid") {
        return PaddingMode::valid;
    }
    if (mode == "same") {
        return PaddingMode::same;
    }
    throw std::invalid_argument("unknown padding '" + mode + "': expected 'valid' or 'same'");
}

}  // namespace cnn
