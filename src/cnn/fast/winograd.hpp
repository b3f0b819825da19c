/// \file
/// \ingroup ch07
/// \brief Winograd's minimal filtering F(2x2, 3x3) and F(4x4, 3x3): 3x3 stride-1 convolutions
/// with 2.25 or 4 times fewer multiplications, forward and backward.
///
/// Once the products run near the machine's peak (conv2d_fast.hpp), the only way to go faster
/// is to do less arithmetic. Lavin and Gray ("Fast Algorithms for Convolutional Neural
/// Networks", CVPR 2016) brought Winograd's minimal filtering algorithms to CNNs; the smallest
/// useful one is F(2x2, 3x3).
///
/// **In one dimension, F(2, 3).** Two outputs of a 3-tap correlation of d = (d0, d1, d2, d3)
/// with g = (g0, g1, g2) take 6 multiplications directly:
/// \f$y_0 = d_0 g_0 + d_1 g_1 + d_2 g_2\f$ and \f$y_1 = d_1 g_0 + d_2 g_1 + d_3 g_2\f$.
/// Winograd computes them with 4:
/// \f[ m_0 = (d_0 - d_2)\,g_0,\quad m_1 = (d_1 + d_2)\,\frac{g_0 + g_1 + g_2}{2},\quad
///     m_2 = (d_2 - d_1)\,\frac{g_0 - g_1 + g_2}{2},\quad m_3 = (d_1 - d_3)\,g_2, \f]
/// \f[ y_0 = m_0 + m_1 + m_2, \qquad y_1 = m_1 - m_2 - m_3. \f]
/// (Check \f$y_0\f$: \f$m_1 + m_2 = d_1 g_1 + d_2 g_0 + d_2 g_2\f$, and \f$m_0\f$ adds
/// \f$d_0 g_0 - d_2 g_0\f$.) The terms in g depend only on the filter and are computed once per
/// filter; the sums of d are additions, shared by every filter. As matrices,
/// \f$y = A^T [(G g) \odot (B^T d)]\f$ with \f$\odot\f$ the elementwise product and
/// \f[ B^T = \begin{pmatrix} 1 & 0 & -1 & 0 \\ 0 & 1 & 1 & 0 \\ 0 & -1 & 1 & 0
///                           \\ 0 & 1 & 0 & -1 \end{pmatrix}, \quad
///     G = \begin{pmatrix} 1 & 0 & 0 \\ \frac12 & \frac12 & \frac12
///                         \\ \frac12 & -\frac12 & \frac12 \\ 0 & 0 & 1 \end{pmatrix}, \quad
///     A^T = \begin{pmatrix} 1 & 1 & 1 & 0 \\ 0 & 1 & -1 & -1 \end{pmatrix}. \f]
///
/// **In two dimensions, F(2x2, 3x3)** nests the 1-D algorithm over rows and columns: a 2x2
/// output tile of a 3x3 filter g reads a 4x4 input tile d, and
/// \f[ Y = A^T \left[ (G g G^T) \odot (B^T d B) \right] A, \f]
/// 16 multiplications instead of 36. Tiles overlap by two rows and two columns, like the
/// windows they replace; tiles that stick out past the output read zeros and their extra
/// outputs are dropped.
///
/// **Larger tiles, F(4x4, 3x3).** The same construction on two points more (0, 1, -1, 2, -2
/// and infinity, where F(2, 3) uses the first three and infinity) gives 4 outputs of a 3-tap
/// correlation from 6 inputs with 6 multiplications (Lavin and Gray's matrices): \f[ B^T =
/// \begin{pmatrix} 4 & 0 & -5 & 0 & 1 & 0 \\ 0 & -4 & -4 & 1 & 1 & 0
///                           \\ 0 & 4 & -4 & -1 & 1 & 0 \\ 0 & -2 & -1 & 2 & 1 & 0
///                           \\ 0 & 2 & -1 & -2 & 1 & 0 \\ 0 & 4 & 0 & -5 & 0 & 1
///                           \end{pmatrix}, \quad
///     G = \begin{pmatrix} \frac14 & 0 & 0 \\ -\frac16 & -\frac16 & -\frac16
///                         \\ -\frac16 & \frac16 & -\frac16 \\ \frac1{24} & \frac1{12} & \frac16
///                         \\ \frac1{24} & -\frac1{12} & \frac16 \\ 0 & 0 & 1 \end{pmatrix}, \f]
/// \f[ A^T = \begin{pmatrix} 1 & 1 & 1 & 1 & 1 & 0 \\ 0 & 1 & -1 & 2 & -2 & 0
///                           \\ 0 & 1 & 1 & 4 & 4 & 0 \\ 0 & 1 & -1 & 8 & -8 & 1
///                           \end{pmatrix}. \f]
/// In two dimensions a 6x6 input tile gives a 4x4 output tile with 36 multiplications instead
/// of 144. Everything below holds for both, with 4x4 tiles and 16 positions for F(2x2) and
/// 6x6 tiles and 36 positions for F(4x4). The price is rounding: the transforms multiply by up
/// to 8 and divide by 24, so F(4x4)'s results lose about ten times more than F(2x2)'s (the
/// tests bound them at 5e-5 and 1e-5 of the largest value). Which tile is faster depends on
/// the output's size and on the machine: winograd_tile_for().
///
/// **Over channels and a batch** the products become matrix products again. Write
/// \f$U = G g G^T\f$ for every filter f and channel c, \f$V = B^T d B\f$ for every channel c
/// and tile t (t runs over the tiles of all images in a group), and \f$\xi\f$ for one of the 16
/// positions of a 4x4 tile (36 of a 6x6 one). The sum over channels happens before
/// \f$A^T \cdot A\f$, which is linear, so for each \f$\xi\f$:
/// \f[ M_\xi = U_\xi V_\xi, \qquad (FN, T) = (FN, C)\,(C, T), \f]
/// 16 (or 36) products of \ref chapter04 "chapter 04's" kind, after which \f$A^T M A\f$ gives
/// every output tile.
///
/// **Backward**, the two other products of training are Winograd convolutions too:
/// - \f$dx\f$ is a 3x3 stride-1 correlation of dy with the filters rotated by 180 degrees and
///   channels swapped, over dy padded by 2 - P on each side (P the forward's padding on that
///   side; negative means cropped). The backward pass transforms the rotated filters into U
///   once per call, as the forward pass transforms the filters, stored (FN, C) per position
///   so that the product needs no transpose. (For F(2x2) the rotated filters' U is U itself
///   with its first and last rows and columns swapped, since reversing g maps the points 0 and
///   infinity to each other and 1 and -1 to themselves; F(4x4)'s points 2 and -2 would need 1/2
///   and -1/2, so no such shortcut exists there, and one code path serves both.)
/// - \f$dW\f$: the forward is linear in g, and its transpose is
///   \f[ dW = G^T \Big[ \sum_t (A\, dY_t A^T) \odot (B^T d_t B) \Big] G, \f]
///   \f$dY_t\f$ the 2x2 (4x4) block of dy for tile t (zero past the output's edge): for each
///   \f$\xi\f$ a product (FN, T) (T, C), summed over tiles by the product itself (computed
///   transposed, (C, T) (T, FN): see "The products" below).
///
/// The engine runs like conv2d_fast.hpp's, on the same plan (conv2d_plan.hpp): the batch split
/// between threads, each taking groups of images whose tiles give the products about
/// FastConvOptions::min_columns columns, with the bias and ReLU fused into the copy of the
/// results to y and the ReLU's mask applied while reading dy. The layers' engine
/// (FastConv2DEngine, engines.hpp) runs it for 3x3 stride-1 convolutions with enough channels
/// (ConvAlgorithm::automatic, winograd_preferred()), with the tile winograd_tile_for() picks.
///
/// **Layout.** The transforms are only additions: they cost little arithmetic but touch every
/// value, so they are as fast as their memory accesses and vector instructions make them. A 7x7
/// output has 4x4 tiles of F(2x2), or 2x2 of F(4x4): a loop over the tiles of one row is 4 or 2
/// long, far too short for a vector of 16 floats. The engine therefore copies each image
/// channels-last (C, H, W) -> (H, W, C) into a frame of zeros (the padding), where every pixel's
/// channels are one contiguous run, and transforms winograd_lanes (16) channels of a tile at once:
/// one vector instruction per addition. V and M are stored (positions, tiles, channels), and E
/// too, in panels (see "The products" below), so the products above are computed transposed,
/// e.g. \f$M_\xi^T = V_\xi^T U_\xi^T\f$, (T, FN) = (T, C) (C, FN); the results are copied back
/// to (FN, OH, OW) with the bias and ReLU.
///
/// **The products.** All three are computed by panel_product.hpp's multiply_panels(), whose
/// right side is stored in panels of 32 columns, without a BLAS call's packing and clearing:
/// the transforms write each right side straight into panels. The forward's products and dx's
/// have U on the right, the same U for every group of images in a call. dW's are computed
/// transposed, \f$dW_\xi^T = V_\xi^T E_\xi\f$, (C, FN) = (C, T) (T, FN), so that their right
/// side is E, which the gradient transform writes in panels; \f$V_\xi^T\f$ is read as V is
/// stored, row by row of V.
///
/// **Rounding.** F(2x2)'s transforms add and subtract up to 9 values and halve, so results
/// differ from the direct sums by a few float roundings more than im2col's; F(4x4)'s lose more,
/// as above. \ref chapter07 "Chapter 07's" ladder prints the difference for the seed model's
/// layers.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "cnn/fast/conv2d_plan.hpp"
#include "cnn/ops/geometry.hpp"
#include "cnn/tensor/tensor.hpp"

namespace cnn {

/// Channels the engine transforms at once: one vector of 16 floats (one AVX-512 register, or
/// two AVX2 ones) per addition of a tile transform.
constexpr std::size_t winograd_lanes = 16;

/// The tile sizes the engine computes.
enum class WinogradTile {
    f2x2,  ///< F(2x2, 3x3): 2x2 outputs from a 4x4 input tile, 16 multiplications for 36
    f4x4,  ///< F(4x4, 3x3): 4x4 outputs from a 6x6 input tile, 36 multiplications for 144
};

/// \f$B^T d B\f$ for one input tile d, (4, 4) or (6, 6), row-major.
/// \param tile which algorithm
/// \param d the tile: 16 or 36 values
/// \return V's values for the tile, as many as d's
/// \throws std::invalid_argument when d has the wrong number of values
std::vector<float> winograd_input_tile(WinogradTile tile, const std::vector<float>& d);

/// \f$G g G^T\f$ for one filter g (3, 3), row-major: (4, 4) or (6, 6).
/// \param tile which algorithm
/// \param g the filter, 9 values
/// \return U's 16 or 36 values for the filter
/// \throws std::invalid_argument unless g has 9 values
std::vector<float> winograd_filter_tile(WinogradTile tile, const std::vector<float>& g);

/// \f$A^T m A\f$ for one tile m of products: the 2x2 or 4x4 outputs, row-major.
/// \param tile which algorithm
/// \param m the products, 16 or 36 values
/// \return the 4 or 16 outputs
/// \throws std::invalid_argument when m has the wrong number of values
std::vector<float> winograd_output_tile(WinogradTile tile, const std::vector<float>& m);

/// \f$A\, dY A^T\f$ for one 2x2 or 4x4 block dY of dy: the transpose of winograd_output_tile(),
/// which backward applies to dy. Returns 16 or 36 values, row-major.
/// \param tile which algorithm
/// \param dy the block's 4 or 16 gradients
/// \return 16 or 36 values
/// \throws std::invalid_argument when dy has the wrong number of values
std::vector<float> winograd_output_tile_transpose(WinogradTile tile, const std::vector<float>& dy);

/// \f$G^T m G\f$ for one tile m: the transpose of winograd_filter_tile(), which takes dW's sums
/// back to (3, 3), row-major.
/// \param tile which algorithm
/// \param m 16 or 36 values
/// \return the filter's 9 gradients
/// \throws std::invalid_argument when m has the wrong number of values
std::vector<float> winograd_filter_tile_transpose(WinogradTile tile, const std::vector<float>& m);

/// Whether the Winograd engine computes this convolution: 3x3 filters w (FN, C, 3, 3) and
/// stride 1 along both axes (any padding).
/// \param w the filters (FN, C, FH, FW)
/// \param geometry strides and padding
/// \return true for FH = FW = 3 and strides 1
bool winograd_applies(const Tensor4& w, const Conv2DGeometry& geometry);

/// A fraction: F(4x4)'s products over F(2x2)'s, at or below which winograd_tile_for() picks
/// F(4x4).
struct ProductShare {
    std::size_t numerator;    ///< e.g. 2 for two thirds
    std::size_t denominator;  ///< e.g. 3 for two thirds
};

/// The share this build picks F(4x4) under: 2/3 with AVX-512, 3/4 without. Where a core has
/// no AVX-512 its products run at half the width, so they weigh more against the transforms,
/// and F(4x4)'s saving pays on larger maps too (\ref chapter07 "chapter 07" measures both).
/// \return 2/3 or 3/4
ProductShare winograd_f4x4_share();

/// How a tile size covers an output (OH, OW): its tiles, and the positions (products per filter
/// and channel) of each.
struct WinogradGrid {
    std::size_t tiles;      ///< ceil(OH / m)·ceil(OW / m) tiles of m x m outputs
    std::size_t positions;  ///< (m + 2)²: 16 for F(2x2), 36 for F(4x4)
    /// Products per filter and channel over the whole output.
    /// \return tiles·positions
    std::size_t products() const { return tiles * positions; }
};

/// The tiles of `tile` over an output (OH, OW), those that stick out past its edge included.
/// \param tile which algorithm
/// \param oh the output's rows
/// \param ow the output's columns
/// \return the tiles and the positions of each
WinogradGrid winograd_grid(WinogradTile tile, std::size_t oh, std::size_t ow);

/// The tile that computes an output (OH, OW) faster. F(4x4, 3x3) needs fewer products per
/// output, but its transforms do more work per product, and its tiles stick out further past
/// the output's edge. It is chosen when it needs at most `share` of F(2x2)'s products,
/// counting ceil(OH / m)·ceil(OW / m) tiles of (m + 2)² products. On the seed model's layers
/// (\ref chapter07 "chapter 07" times both) F(4x4) was clearly faster on the 7x7 maps, where
/// it needs 0.56 times F(2x2)'s products, on every machine measured. On the 14x14 ones, where
/// it needs 0.73 times, it was 4-14% slower on a machine with AVX-512 and took 0.69-0.94 of
/// F(2x2)'s time on one without: hence the two shares of winograd_f4x4_share().
/// \param oh the output's rows
/// \param ow the output's columns
/// \param share the largest share of F(2x2)'s products F(4x4) may need to be chosen
/// \return WinogradTile::f4x4 or WinogradTile::f2x2
WinogradTile winograd_tile_for(std::size_t oh, std::size_t ow,
                               ProductShare share = winograd_f4x4_share());

/// Scratch memory of the Winograd engine, kept between calls so that a training loop allocates
/// it once. A call grows it when its layer or batch needs more, and uses the front of buffers
/// grown larger: the engines of one factory share one (engines.hpp's ConvScratch). Every tile
/// buffer holds P matrices, one per position \f$\xi\f$ of a tile (P = 16 for F(2x2), 36 for
/// F(4x4)), with one row per tile of the thread's group of images.
struct WinogradWorkspace {
    /// What one thread works in.
    struct PerThread {
        /// The input side of a correlation, transformed: V (P, tiles, C) from x for the
        /// forward pass and dW; for dx, V (P, dx's tiles, FN) from dy.
        std::vector<float> input_tiles;
        /// The output side, in the tiles' terms: the products M (P, tiles, FN) forward;
        /// E (P, tiles, FN) in panels of 32 columns, dy transformed, for dW; then dx's products
        /// M (P, dx's tiles, C).
        std::vector<float> output_tiles;
        /// One image copied channels-last into a frame of zeros, (rows, cols, channels): x on
        /// its way to V, or y's or dx's tiles on their way out.
        std::vector<float> frame;
        /// winograd_lanes planes of an image, read or written in one sequential run.
        std::vector<float> stage;
        /// The group's dy, framed channels-last, which both gradients read.
        std::vector<float> dy_frames;
    };
    std::vector<PerThread> per_thread;  ///< one per share of the batch
    /// The transformed filters, shared by the threads: U (P, C, FN) forward, the rotated
    /// filters' U (P, FN, C) backward, each of the P matrices in panels of 32 columns
    /// (panel_product.hpp).
    std::vector<float> filters;
    /// Each thread's share of the gradients: dW still transformed and transposed, (P, C, FN),
    /// and db (FN).
    ThreadSums dw, db;
};
/// \var WinogradWorkspace::db
/// Each thread's share of the bias gradient (FN).

/// Forward. x is (N, C, H, W), w is (FN, C, 3, 3), b is (FN); returns y (N, FN, OH, OW), equal
/// to conv2d_naive_forward() (followed by a ReLU for Epilogue::bias_relu) up to a few float
/// roundings. Throws std::invalid_argument unless winograd_applies() and the shapes fit.
/// \param x the input (N, C, H, W)
/// \param w the filters (FN, C, 3, 3)
/// \param b the biases (FN)
/// \param geometry padding; strides must be 1
/// \param tile F(2x2, 3x3) or F(4x4, 3x3)
/// \param options the epilogue and how to split the batch
/// \param workspace scratch memory, grown as needed
/// \param copy when not null, also receives y, each plane written as y's is (reshaped first
///        unless it has y's shape): the copy a fused ReLU's backward pass reads its mask from
/// \return y (N, FN, OH, OW)
Tensor4 conv2d_winograd_forward(const Tensor4& x, const Tensor4& w, const Tensor1& b,
                                const Conv2DGeometry& geometry, WinogradTile tile,
                                const FastConvOptions& options, WinogradWorkspace& workspace,
                                Tensor4* copy = nullptr);

/// Backward, with the same checks and check_conv2d_backward_shapes(): accumulates dw and db,
/// returns dx; with Epilogue::bias_relu, y (the forward's output) masks dy, otherwise y is
/// ignored and may be empty.
/// \param dy the gradient of y (N, FN, OH, OW)
/// \param x the forward's input (N, C, H, W)
/// \param y the forward's output (N, FN, OH, OW), or empty without a ReLU
/// \param w the filters (FN, C, 3, 3)
/// \param geometry the forward's
/// \param tile which algorithm; need not be the forward's
/// \param options the forward's
/// \param workspace scratch memory, grown as needed
/// \param dw the filters' gradient (FN, C, 3, 3), added to
/// \param db the biases' gradient (FN), added to
/// \return dx (N, C, H, W)
/// \throws std::invalid_argument as the forward pass, or when the gradients' shapes are wrong
Tensor4 conv2d_winograd_backward(const Tensor4& dy, const Tensor4& x, const Tensor4& y,
                                 const Tensor4& w, const Conv2DGeometry& geometry,
                                 WinogradTile tile, const FastConvOptions& options,
                                 WinogradWorkspace& workspace, Tensor4& dw, Tensor1& db);

}  // namespace cnn
