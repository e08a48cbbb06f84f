// rotq::cuda::dense_rotation_plan and its launchers: X R as one cuBLAS GEMM (fp32 accumulation),
// then, for dense_rotate_quantize, the quantise-only row kernel on the fp32 result.

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <climits>
#include <cstring>
#include <memory>
#include <vector>

#include "device_buffer.hpp"
#include "rotq/cuda.hpp"
#include "rotq/cuda/detail/launch_arguments.hpp"

namespace rotq {
namespace cuda {
namespace detail {

/// cuBLAS's recommended workspace on Hopper; given to the handle so no launch allocates.
constexpr std::size_t cublas_workspace_bytes = std::size_t{32} << 20;

struct dense_rotation_plan_state {
  std::size_t n = 0;
  element_type type = element_type::float32;
  device_buffer matrix;
  device_buffer workspace;
  cublasHandle_t handle = nullptr;

  dense_rotation_plan_state() = default;
  dense_rotation_plan_state(const dense_rotation_plan_state&) = delete;
  dense_rotation_plan_state& operator=(const dense_rotation_plan_state&) = delete;
  ~dense_rotation_plan_state() {
    if (handle != nullptr) cublasDestroy(handle);
  }
};

namespace {

/// r (row-major floats) in the element type the GEMM multiplies.
std::vector<unsigned char> matrix_bytes(const std::vector<float>& r, element_type type) {
  std::vector<unsigned char> bytes(r.size() * element_bytes(type));
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (type == element_type::float16) {
      const __half h = __float2half_rn(r[i]);
      std::memcpy(bytes.data() + 2 * i, &h, 2);
    } else if (type == element_type::bfloat16) {
      const __nv_bfloat16 b = __float2bfloat16_rn(r[i]);
      std::memcpy(bytes.data() + 2 * i, &b, 2);
    } else {
      std::memcpy(bytes.data() + 4 * i, &r[i], 4);
    }
  }
  return bytes;
}

cudaDataType_t cuda_type(element_type type) {
  switch (type) {
    case element_type::float16: return CUDA_R_16F;
    case element_type::bfloat16: return CUDA_R_16BF;
    case element_type::float32: break;
  }
  return CUDA_R_32F;
}

status from_cublas(const char* function, const char* call, cublasStatus_t e) {
  if (e == CUBLAS_STATUS_SUCCESS) return {};
  return status::make(status_code::cublas_error, static_cast<int>(e), "rotq::cuda::%s: %s: %s",
                      function, call, cublasGetStatusString(e));
}

}  // namespace
}  // namespace detail

dense_rotation_plan::dense_rotation_plan(std::size_t n, const std::vector<float>& r,
                                         element_type input_type)
    : state_(std::make_unique<detail::dense_rotation_plan_state>()) {
  ROTQ_EXPECTS(n > 0 && n <= static_cast<std::size_t>(INT_MAX),
               "n = " << n << ", expected 1 to " << INT_MAX << " (cuBLAS sizes are int)");
  ROTQ_EXPECTS(r.size() == n * n, "r.size() = " << r.size() << ", expected n * n = " << n * n);
  ROTQ_EXPECTS(
      detail::valid_type(input_type),
      "input_type = " << static_cast<int>(input_type) << ", expected float32, float16 or bfloat16");
  detail::dense_rotation_plan_state& s = *state_;
  s.n = n;
  s.type = input_type;
  const std::vector<unsigned char> bytes = detail::matrix_bytes(r, input_type);
  s.matrix = detail::device_buffer(bytes.data(), bytes.size(), "the rotation matrix");
  s.workspace = detail::device_buffer(nullptr, detail::cublas_workspace_bytes, "cuBLAS workspace");
  // The workspace is handed to the handle at every launch (run_gemm), after its stream is set.
  const cublasStatus_t e = cublasCreate(&s.handle);
  ROTQ_EXPECTS(e == CUBLAS_STATUS_SUCCESS, "cublasCreate failed: " << cublasGetStatusString(e));
}

dense_rotation_plan::~dense_rotation_plan() = default;
dense_rotation_plan::dense_rotation_plan(dense_rotation_plan&&) noexcept = default;
dense_rotation_plan& dense_rotation_plan::operator=(dense_rotation_plan&&) noexcept = default;

std::size_t dense_rotation_plan::size() const noexcept { return state_ ? state_->n : 0; }

element_type dense_rotation_plan::input_type() const noexcept {
  return state_ ? state_->type : element_type::float32;
}

namespace {

/// The plan, the input rows and the fp32 rows the GEMM writes (`out_name`: "out", or the
/// quantiser's "workspace").
status check_dense(const char* function, const detail::dense_rotation_plan_state* s,
                   std::size_t rows, const device_input& in, const char* out_name, const float* out,
                   std::size_t out_stride) {
  if (s == nullptr)
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: plan is empty (moved from), expected a built plan",
                        function);
  if (in.type != s->type)
    return status::make(status_code::invalid_argument, 0,
                        "rotq::cuda::%s: in.type = %s, expected the plan's input type %s", function,
                        detail::type_name(in.type), detail::type_name(s->type));
  if (status st = detail::check_rows(function, "in", in.data, in.type, in.stride, rows, s->n,
                                     element_bytes(in.type));
      !st)
    return st;
  if (rows == 0) return {};  // nothing is read or written
  if (rows > static_cast<std::size_t>(INT_MAX) || in.stride > static_cast<std::size_t>(INT_MAX) ||
      out_stride > static_cast<std::size_t>(INT_MAX))
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: rows = %zu, in.stride = %zu, out_stride = %zu, expected "
                        "each at most %d (cuBLAS sizes are int)",
                        function, rows, in.stride, out_stride, INT_MAX);
  if (out == nullptr)
    return status::make(status_code::invalid_argument, 0, "rotq::cuda::%s: %s is null for %zu rows",
                        function, out_name, rows);
  if (!detail::aligned_to(out, alignof(float)))
    return status::make(status_code::misaligned_pointer, 0,
                        "rotq::cuda::%s: %s = %p is not 4-byte aligned", function, out_name,
                        static_cast<const void*>(out));
  if (out_stride < s->n)
    return status::make(status_code::bad_shape, 0,
                        "rotq::cuda::%s: the %s stride %zu is smaller than n = %zu", function,
                        out_name, out_stride, s->n);
  const std::size_t in_bytes = element_bytes(in.type);
  const detail::named_span spans[] = {
      {"in", detail::rows_span(in.data, rows, in.stride * in_bytes, s->n * in_bytes)},
      {out_name, detail::rows_span(out, rows, out_stride * sizeof(float), s->n * sizeof(float))},
  };
  return detail::check_disjoint(function, spans);
}

/// Row-major Y = X R is column-major Y^T = R^T X^T: with R and X read as column-major arrays (R^T
/// with ld n, X^T with ld in.stride), one GEMM without transposes writes Y^T with ld out_stride.
status run_gemm(const char* function, const detail::dense_rotation_plan_state& s, std::size_t rows,
                const device_input& in, float* out, std::size_t out_stride, cudaStream_t stream) {
  if (status st =
          detail::from_cublas(function, "cublasSetStream", cublasSetStream(s.handle, stream));
      !st)
    return st;
  // cublasSetStream puts the handle back on cuBLAS's default workspace pool, which may allocate
  // (and is not safe to capture in a graph): hand it the plan's own workspace again.
  if (status st = detail::from_cublas(
          function, "cublasSetWorkspace",
          cublasSetWorkspace(s.handle, s.workspace.get<void>(), detail::cublas_workspace_bytes));
      !st)
    return st;
  const float one = 1.0f;
  const float zero = 0.0f;
  const int n = static_cast<int>(s.n);
  const cudaDataType_t type = detail::cuda_type(s.type);
  return detail::from_cublas(
      function, "cublasGemmEx",
      cublasGemmEx(s.handle, CUBLAS_OP_N, CUBLAS_OP_N, n, static_cast<int>(rows), n, &one,
                   s.matrix.get<const void>(), type, n, in.data, type, static_cast<int>(in.stride),
                   &zero, out, CUDA_R_32F, static_cast<int>(out_stride), CUBLAS_COMPUTE_32F,
                   CUBLAS_GEMM_DEFAULT));
}

}  // namespace

status dense_rotate(const dense_rotation_plan& plan, std::size_t rows, device_input in, float* out,
                    std::size_t out_stride, cudaStream_t stream) {
  const char* function = "dense_rotate";
  const detail::dense_rotation_plan_state* s = plan.state();
  if (status st = check_dense(function, s, rows, in, "out", out, out_stride); !st) return st;
  if (rows == 0) return {};
  return run_gemm(function, *s, rows, in, out, out_stride, stream);
}

status dense_rotate_quantize(const dense_rotation_plan& plan, std::size_t rows, device_input in,
                             float* workspace, const quant_options& quant,
                             const quantized_output& out, cudaStream_t stream) {
  const char* function = "dense_rotate_quantize";
  const detail::dense_rotation_plan_state* s = plan.state();
  if (status st =
          check_dense(function, s, rows, in, "workspace", workspace, s != nullptr ? s->n : 0);
      !st)
    return st;
  const device_input rotated{workspace, element_type::float32, s->n};
  // Everything the quantiser will check, checked before the GEMM runs.
  if (s->n % 2 != 0 || s->n > static_cast<std::size_t>(detail::max_row_length))
    return status::make(status_code::unsupported_size, 0,
                        "rotq::cuda::%s: n = %zu, expected an even length up to %d for the "
                        "quantiser",
                        function, s->n, detail::max_row_length);
  const bool vectorised = s->n % detail::vector_elements == 0;
  if (status st =
          detail::check_rows(function, "workspace", workspace, element_type::float32, s->n, rows,
                             s->n, vectorised ? detail::vector_alignment : sizeof(float));
      !st)
    return st;
  if (status st = detail::check_quantized_output(
          function, rotated, quant, out, rows, s->n,
          vectorised ? detail::vector_elements : detail::staged_vector_elements);
      !st)
    return st;
  if (rows == 0) return {};
  if (status st = run_gemm(function, *s, rows, in, workspace, s->n, stream); !st) return st;
  return quantize(rows, s->n, rotated, quant, out, stream);
}

}  // namespace cuda
}  // namespace rotq
