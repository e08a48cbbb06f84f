#pragma once
// rotq::cuda: the compiled GPU kernels (link rotq::cuda). Plain host C++: any compiler can include
// it, and cudaStream_t is the only CUDA type it names. Device memory goes in and out through
// pointers; the plans own what the kernels need on the device (Hadamard tables, block matrices,
// a cuBLAS handle) and are built once, outside any hot path. Every launcher takes an explicit
// stream, allocates nothing, never synchronises (so it may be captured in a CUDA graph) and
// checks shapes and alignment before launching: it returns a status and never throws.
//
// Conventions are the host library's: rows are tokens, a transform maps each row x to x T, and
// "the Hadamard transform" of a row is x <- H_n x with H_n = (H_m (x) S_p) / sqrt(n), exactly as
// rotq::fwht. See docs/cuda.md for formats, scale layouts and numerics.

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "rotq/error.hpp"

// CUDA's own typedef (driver_types.h), repeated so this header needs no CUDA include.
struct CUstream_st;
typedef CUstream_st* cudaStream_t;

namespace rotq {

/// rotq::normalization, defined with its enumerators in <rotq/hadamard.hpp> (include it to name
/// them); declared here so that this header, and nvcc code that includes it, stays free of Eigen.
/// Value-initialised it is normalization::orthonormal.
enum class normalization;

namespace cuda {

// ---- status ------------------------------------------------------------------------------------

/// Why a launcher did not launch (or why the launch failed).
enum class status_code {
  success,
  cuda_error,          ///< a CUDA runtime call failed; native_error() is the cudaError_t
  cublas_error,        ///< a cuBLAS call failed; native_error() is the cublasStatus_t
  bad_shape,           ///< rows, strides or sizes that do not fit together
  misaligned_pointer,  ///< a pointer or stride without the alignment the kernel's vectors need
  unsupported_size,    ///< a size the kernels do not handle (n > 32768, a group size, ...)
  invalid_argument,    ///< a null pointer, an empty plan, an option outside its range
};

/// The result of a launcher: success, or the reason it failed with a message naming the
/// argument, the value and what was expected ("rotq::cuda::hadamard: in.stride = 100 is smaller
/// than n = 128"). Cheap to copy; holds no heap memory.
class [[nodiscard]] status {
public:
  status() noexcept = default;

  // clang-format would break this signature after the guarded attribute.
  // clang-format off
  /// A failure (or, with status_code::success, a success) whose message is printf-formatted.
#if defined(__GNUC__) || defined(__clang__)
  __attribute__((format(printf, 3, 4)))
#endif
  static status make(status_code code, int native_error, const char* format, ...) noexcept {
    status result;
    result.code_ = code;
    result.native_error_ = native_error;
    std::va_list args;
    va_start(args, format);
    std::vsnprintf(result.message_, sizeof result.message_, format, args);
    va_end(args);
    return result;
  }
  // clang-format on

  bool ok() const noexcept { return code_ == status_code::success; }
  explicit operator bool() const noexcept { return ok(); }
  status_code code() const noexcept { return code_; }
  /// The cudaError_t (code() == cuda_error) or cublasStatus_t (code() == cublas_error) value as
  /// an int; 0 otherwise.
  int native_error() const noexcept { return native_error_; }
  /// Empty on success.
  const char* message() const noexcept { return message_; }

private:
  status_code code_ = status_code::success;
  int native_error_ = 0;
  char message_[256] = {};
};

// ---- data descriptions -------------------------------------------------------------------------

/// Element types of activations in and transformed rows out; the arithmetic is always fp32.
enum class element_type { float32, float16, bfloat16 };

constexpr std::size_t element_bytes(element_type type) {
  return type == element_type::float32 ? 4 : 2;
}

/// Rows the kernel reads: row r starts at data + r * stride elements (stride >= the row length).
struct device_input {
  const void* data = nullptr;
  element_type type = element_type::float32;
  std::size_t stride = 0;
};

/// Rows the kernel writes, laid out as device_input. May be the same memory as the input (in
/// place) where a launcher says so; partial overlaps are not allowed.
struct device_output {
  void* data = nullptr;
  element_type type = element_type::float32;
  std::size_t stride = 0;
};

/// Output formats of the fused quantisers (algorithms.md 6, rotq/quantize.hpp).
enum class quant_format {
  int8,      ///< one int8 (or uint8 when asymmetric) code per byte
  int4,      ///< two 4-bit codes per byte, element 2i in the low nibble (two's complement)
  fp8_e4m3,  ///< OCP e4m3 "fn" codes, one per byte
  mxfp4,     ///< e2m1 codes packed like int4, one e8m0 scale byte per 32 elements
  nvfp4,     ///< e2m1 codes packed like int4, one e4m3 scale byte per 16 elements
};

/// How rows are quantised. Scales cover `group_size` consecutive elements of a row (0: the whole
/// row, "per token"); int and fp8 take 0, 16, 32, 64 or 128; mxfp4 and nvfp4 have fixed blocks
/// (32 and 16) and take 0 or that size. `symmetric` and `clip` (in (0, 1]) are for the integer
/// formats, `global_scale` (finite, > 0) for nvfp4: the numbers are those of quantize_rows,
/// quantize_fp8_rows, quantize_mxfp4_rows and quantize_nvfp4_rows, bit for bit.
struct quant_options {
  quant_format format = quant_format::int8;
  bool symmetric = true;
  std::size_t group_size = 0;
  float clip = 1.0f;
  float global_scale = 1.0f;
};

/// Where quantised rows go, all row-major on the device. codes: row r at codes + r * codes_stride
/// bytes (codes_stride >= code_bytes_per_row). scales: row r at scales + r * scales_stride
/// elements (>= scales_per_row), fp32 for int and fp8, one byte (e8m0 / e4m3) for mxfp4 / nvfp4.
/// zero_points: int32, the layout of scales; only for asymmetric int formats, else null.
struct quantized_output {
  void* codes = nullptr;
  std::size_t codes_stride = 0;
  void* scales = nullptr;
  std::size_t scales_stride = 0;
  std::int32_t* zero_points = nullptr;
  std::size_t zero_points_stride = 0;
};

/// Bytes of codes one row of n elements takes: n for int8 / fp8, n / 2 for int4, mxfp4, nvfp4.
constexpr std::size_t code_bytes_per_row(quant_format format, std::size_t n) {
  return (format == quant_format::int8 || format == quant_format::fp8_e4m3) ? n : n / 2;
}

/// Elements each scale covers (the format's block for mxfp4 / nvfp4, n when per token).
constexpr std::size_t elements_per_scale(const quant_options& options, std::size_t n) {
  return options.format == quant_format::mxfp4   ? 32
         : options.format == quant_format::nvfp4 ? 16
         : options.group_size == 0               ? n
                                                 : options.group_size;
}

/// Scales (and zero points) per row of n elements.
constexpr std::size_t scales_per_row(const quant_options& options, std::size_t n) {
  return n / elements_per_scale(options, n);
}

namespace detail {
struct hadamard_plan_state;
struct block_rotation_plan_state;
struct dense_rotation_plan_state;
}  // namespace detail

// ---- Hadamard ----------------------------------------------------------------------------------

/// What a hadamard_plan applies. forward (inverse = false): x <- H_n (x * s), the signs s of
/// rotq::random_signs(n, seed) flipped first when random_signs is set (rotq::random_hadamard's
/// map), else x <- H_n x (rotq::fwht). inverse = true undoes it: x <- (H_n^T x) * s.
struct hadamard_options {
  normalization norm{};  ///< orthonormal (the default) or none
  bool inverse = false;
  bool random_signs = false;
  std::uint64_t seed = 0;
};

/// The device-side tables of one Hadamard size: H_m (or H_m^T) as sign bits and the random signs.
/// Build it once per size (it allocates and copies synchronously), pass it to every launch. Move
/// only; the launchers only read it, so one plan serves any number of streams. Launches (and CUDA
/// graphs that captured them) read its tables when they run: keep the plan alive until then.
class hadamard_plan {
public:
  /// Throws rotq::error unless 2 <= n <= 32768 and rotq::hadamard_supported(n), or when a CUDA
  /// allocation or copy fails (the message names the cudaError_t).
  explicit hadamard_plan(std::size_t n, const hadamard_options& options = {});
  ~hadamard_plan();
  hadamard_plan(hadamard_plan&&) noexcept;
  hadamard_plan& operator=(hadamard_plan&&) noexcept;
  hadamard_plan(const hadamard_plan&) = delete;
  hadamard_plan& operator=(const hadamard_plan&) = delete;

  std::size_t size() const noexcept;        ///< n; 0 for a moved-from plan
  std::size_t base_order() const noexcept;  ///< m of n = m * 2^k (1 for powers of two)
  const hadamard_options& options() const noexcept;
  const detail::hadamard_plan_state* state() const noexcept { return state_.get(); }

private:
  std::unique_ptr<detail::hadamard_plan_state> state_;
};

/// Every row r of `in` (rows x n, n = plan.size()) becomes H_n r (X <- X H_n^T) in `out`, with the
/// plan's signs and normalisation; fp32 arithmetic, one rounding to out.type at the end. in.type
/// must equal out.type. In place (out.data == in.data, same stride) is allowed. When n is a
/// multiple of 8 with p = n / m >= 8 the rows must start 16-byte aligned (data and stride * element
/// size); otherwise element alignment suffices.
status hadamard(const hadamard_plan& plan, std::size_t rows, device_input in, device_output out,
                cudaStream_t stream);

/// The Hadamard transform of hadamard() fused with quantisation: each row is read once,
/// optionally divided element-wise by `channel_divisor` (n fp32 values on the device, 16-byte
/// aligned, or null) before the transform, transformed in fp32 and written once as codes and
/// scales. The codes equal those of the host quantiser run on the fp32 rows that hadamard() would
/// write for the same input (after the same division), bit for bit.
status hadamard_quantize(const hadamard_plan& plan, std::size_t rows, device_input in,
                         const float* channel_divisor, const quant_options& quant,
                         const quantized_output& out, cudaStream_t stream);

/// Quantisation alone (no transform): the second kernel of an unfused pipeline and the quantiser
/// after dense_rotate. rows x cols values; cols even, and a multiple of 8 for the vectorised path
/// (16-byte aligned rows), otherwise element aligned.
status quantize(std::size_t rows, std::size_t cols, device_input in, const quant_options& quant,
                const quantized_output& out, cudaStream_t stream);

// ---- block rotations (DuQuant, learned block rotations) -----------------------------------------

/// A block-diagonal rotation with an optional gather, on the device: a row x becomes y with
/// y[b*bs + j] = sum_i g[b*bs + i] * R_b[i][j], where g_k = x_{gather[k]} (rotq::permutation's
/// y_j = x_{perm[j]}) or g = x without a gather: X <- X P R, as the host pipeline
/// permutation(gather).then(block_rotation(blocks)).
class block_rotation_plan {
public:
  /// `blocks`: the count = n / block_size matrices R_b, each block_size x block_size row-major, one
  /// after another (rotq::block_rotation::blocks() cast to float). `gather`: empty or a
  /// permutation of 0..n-1. Throws rotq::error for a block size outside 16..256 or not a multiple
  /// of 8, n (= blocks.size() / block_size^2 * block_size) above 32768, a bad gather, or a CUDA
  /// failure. Orthogonality is not required.
  block_rotation_plan(std::size_t block_size, const std::vector<float>& blocks,
                      const std::vector<std::size_t>& gather = {});
  ~block_rotation_plan();
  block_rotation_plan(block_rotation_plan&&) noexcept;
  block_rotation_plan& operator=(block_rotation_plan&&) noexcept;
  block_rotation_plan(const block_rotation_plan&) = delete;
  block_rotation_plan& operator=(const block_rotation_plan&) = delete;

  std::size_t size() const noexcept;  ///< n; 0 for a moved-from plan
  std::size_t block_size() const noexcept;
  bool has_gather() const noexcept;
  const detail::block_rotation_plan_state* state() const noexcept { return state_.get(); }

private:
  std::unique_ptr<detail::block_rotation_plan_state> state_;
};

/// Every row of `in` (rows x n) becomes x P R in `out` (fp32 arithmetic, out.type == in.type).
/// Not in place: out must not overlap in. Output rows 16-byte aligned.
status block_rotate(const block_rotation_plan& plan, std::size_t rows, device_input in,
                    device_output out, cudaStream_t stream);

/// block_rotate fused with quantisation: one read, one write of codes and scales, bit-identical
/// to the host quantiser on the fp32 rows block_rotate writes.
status block_rotate_quantize(const block_rotation_plan& plan, std::size_t rows, device_input in,
                             const quant_options& quant, const quantized_output& out,
                             cudaStream_t stream);

// ---- dense rotations through cuBLAS -------------------------------------------------------------

/// A dense n x n rotation R (learned, or refined by Procrustes) applied as a cuBLAS GEMM, X <- X R.
/// For float16 / bfloat16 inputs R is stored in that type (cuBLAS needs both operands in one type;
/// the rounding of R is then of the order of the input's own) and accumulated in fp32.
class dense_rotation_plan {
public:
  /// `r`: n x n, row-major. `input_type`: the element type of the rows this plan will rotate.
  /// Creates a cuBLAS handle with its own 32 MiB workspace, so launches allocate nothing. Throws
  /// rotq::error for n = 0, r.size() != n * n, or a CUDA / cuBLAS failure.
  dense_rotation_plan(std::size_t n, const std::vector<float>& r,
                      element_type input_type = element_type::float32);
  ~dense_rotation_plan();
  dense_rotation_plan(dense_rotation_plan&&) noexcept;
  dense_rotation_plan& operator=(dense_rotation_plan&&) noexcept;
  dense_rotation_plan(const dense_rotation_plan&) = delete;
  dense_rotation_plan& operator=(const dense_rotation_plan&) = delete;

  std::size_t size() const noexcept;  ///< n; 0 for a moved-from plan
  element_type input_type() const noexcept;
  const detail::dense_rotation_plan_state* state() const noexcept { return state_.get(); }

private:
  std::unique_ptr<detail::dense_rotation_plan_state> state_;
};

/// out (rows x n fp32, row r at out + r * out_stride, 4-byte aligned) <- X R for the rows of `in`
/// (of the plan's input type). One GEMM: 2 rows n^2 flops; reads X and R, writes fp32. A plan
/// holds one cuBLAS handle and one workspace: launches on one plan must come from one host thread
/// at a time, and must not run concurrently on different streams (order them, or use one plan per
/// stream).
status dense_rotate(const dense_rotation_plan& plan, std::size_t rows, device_input in, float* out,
                    std::size_t out_stride, cudaStream_t stream);

/// dense_rotate into `workspace` (rows x n fp32, contiguous, 16-byte aligned), then quantize() of
/// the workspace: two kernels, with the fp32 intermediate written and read once more (8 extra
/// bytes per element) on top of the GEMM.
status dense_rotate_quantize(const dense_rotation_plan& plan, std::size_t rows, device_input in,
                             float* workspace, const quant_options& quant,
                             const quantized_output& out, cudaStream_t stream);

}  // namespace cuda
}  // namespace rotq
