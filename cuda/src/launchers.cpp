// The launchers of rotq::cuda (except the cuBLAS ones): check the arguments, fill the kernel
// parameters, launch on the caller's stream. Nothing here allocates or synchronises.

#include <cuda_runtime_api.h>

#include <cstdint>

#include "element_kernels.hpp"
#include "plan_states.hpp"
#include "rotq/cuda.hpp"
#include "rotq/cuda/detail/launch_arguments.hpp"

namespace rotq {
namespace cuda {
namespace {

/// launch(element_kernels<T>{}) for the T of `type` (checked valid before).
template <class Launch>
cudaError_t for_element_type(element_type type, Launch&& launch) {
  switch (type) {
    case element_type::float16: return launch(detail::element_kernels<__half>{});
    case element_type::bfloat16: return launch(detail::element_kernels<__nv_bfloat16>{});
    case element_type::float32: break;
  }
  return launch(detail::element_kernels<float>{});
}

status from_cuda(const char* function, cudaError_t e) {
  if (e == cudaSuccess) return {};
  return status::make(status_code::cuda_error, static_cast<int>(e), "rotq::cuda::%s: %s (%s)",
                      function, cudaGetErrorName(e), cudaGetErrorString(e));
}

status empty_plan(const char* function) {
  return status::make(status_code::invalid_argument, 0,
                      "rotq::cuda::%s: plan is empty (moved from), expected a built plan",
                      function);
}

/// A grid has at most 2^31 - 1 CTAs.
status check_row_count(const char* function, std::size_t rows, int rows_per_cta) {
  const std::size_t limit = std::size_t{0x7fffffff} * static_cast<std::size_t>(rows_per_cta);
  if (rows <= limit) return {};
  return status::make(status_code::bad_shape, 0,
                      "rotq::cuda::%s: rows = %zu, expected at most %zu (2^31 - 1 CTAs of %d rows)",
                      function, rows, limit, rows_per_cta);
}

detail::row_io make_io(std::size_t rows, const device_input& in, void* out, std::size_t out_stride,
                       const float* divisor) {
  detail::row_io io;
  io.rows = static_cast<std::int64_t>(rows);
  io.in = in.data;
  io.in_stride = static_cast<std::int64_t>(in.stride);
  io.out = out;
  io.out_stride = static_cast<std::int64_t>(out_stride);
  io.divisor = divisor;
  return io;
}

/// One launch of the row kernels: the vectorised one with `tiling`, or the staged one with
/// `staged`; `transform` false quantises (or copies) alone.
struct row_launch {
  bool vectorised = false;
  detail::row_tiling tiling;
  detail::staged_shape staged;
  bool transform = true;
  detail::hadamard_tables tables;
};

status launch_row_kernel(const char* function, const row_launch& launch, element_type type,
                         const detail::row_io& io, bool quantize, const detail::code_target& target,
                         cudaStream_t stream) {
  const int rows_per_cta =
      launch.vectorised ? launch.tiling.rows_per_cta : launch.staged.rows_per_cta;
  if (status s = check_row_count(function, static_cast<std::size_t>(io.rows), rows_per_cta); !s)
    return s;
  if (launch.vectorised) {
    detail::rows_params p;
    p.tiling = launch.tiling;
    const bool per_group = quantize && target.format.group_size < launch.tiling.n;
    p.smem = detail::row_smem(launch.tiling, launch.transform, quantize, per_group);
    p.io = io;
    p.transform = launch.transform;
    p.tables = launch.tables;
    p.target = target;
    return from_cuda(function, for_element_type(type, [&](auto kernels) {
                       return decltype(kernels)::rows(p, quantize, stream);
                     }));
  }
  detail::staged_params p;
  p.shape = launch.staged;
  p.io = io;
  p.transform = launch.transform;
  p.tables = launch.tables;
  p.target = target;
  return from_cuda(function, for_element_type(type, [&](auto kernels) {
                     return decltype(kernels)::staged(p, quantize, stream);
                   }));
}

/// The plan's launch for `rows` rows: few rows take the decode tiling.
row_launch hadamard_launch(const detail::hadamard_plan_state& s, std::size_t rows) {
  row_launch launch;
  launch.vectorised = s.vectorised;
  launch.tiling =
      rows <= static_cast<std::size_t>(detail::decode_max_rows) ? s.decode_tiling : s.tiling;
  launch.staged = s.staged;
  launch.tables = s.tables;
  return launch;
}

/// The alignment rows need: the vectorised kernel moves 16-byte vectors, the staged one elements.
std::size_t row_alignment(const row_launch& launch, element_type type) {
  return launch.vectorised ? detail::vector_alignment : element_bytes(type);
}

/// The argument checks and the launch of a quantising row launch on `rows` rows of n elements of
/// `in`, optionally divided by `channel_divisor` (null: none) first.
status quantize_row_launch(const char* function, const row_launch& launch, std::size_t rows,
                           std::size_t n, const device_input& in, const float* channel_divisor,
                           const quant_options& quant, const quantized_output& out,
                           cudaStream_t stream) {
  if (status st = detail::check_rows(function, "in", in.data, in.type, in.stride, rows, n,
                                     row_alignment(launch, in.type));
      !st)
    return st;
  if (status st = detail::check_divisor(
          function, channel_divisor, launch.vectorised ? detail::vector_alignment : sizeof(float));
      !st)
    return st;
  const std::size_t vector =
      launch.vectorised ? detail::vector_elements : detail::staged_vector_elements;
  if (status st = detail::check_quantized_output(function, in, quant, out, rows, n, vector); !st)
    return st;
  if (rows == 0) return {};
  return launch_row_kernel(function, launch, in.type,
                           make_io(rows, in, nullptr, 0, channel_divisor), true,
                           detail::to_code_target(quant, out, n), stream);
}

}  // namespace

status hadamard(const hadamard_plan& plan, std::size_t rows, device_input in, device_output out,
                cudaStream_t stream) {
  const char* function = "hadamard";
  const detail::hadamard_plan_state* s = plan.state();
  if (s == nullptr) return empty_plan(function);
  const row_launch launch = hadamard_launch(*s, rows);
  const std::size_t alignment = row_alignment(launch, in.type);
  if (status st =
          detail::check_rows(function, "in", in.data, in.type, in.stride, rows, s->n, alignment);
      !st)
    return st;
  if (status st = detail::check_output_rows(function, in, out, rows, s->n, alignment, true); !st)
    return st;
  if (rows == 0) return {};
  return launch_row_kernel(function, launch, in.type,
                           make_io(rows, in, out.data, out.stride, nullptr), false, {}, stream);
}

status hadamard_quantize(const hadamard_plan& plan, std::size_t rows, device_input in,
                         const float* channel_divisor, const quant_options& quant,
                         const quantized_output& out, cudaStream_t stream) {
  const char* function = "hadamard_quantize";
  const detail::hadamard_plan_state* s = plan.state();
  if (s == nullptr) return empty_plan(function);
  return quantize_row_launch(function, hadamard_launch(*s, rows), rows, s->n, in, channel_divisor,
                             quant, out, stream);
}

status quantize(std::size_t rows, std::size_t cols, device_input in, const quant_options& quant,
                const quantized_output& out, cudaStream_t stream) {
  const char* function = "quantize";
  if (cols < 2 || cols % 2 != 0 || cols > static_cast<std::size_t>(detail::max_row_length))
    return status::make(status_code::unsupported_size, 0,
                        "rotq::cuda::quantize: cols = %zu, expected an even length from 2 to %d",
                        cols, detail::max_row_length);
  row_launch launch;
  launch.transform = false;
  const int n = static_cast<int>(cols);
  launch.vectorised = detail::choose_row_tiling(n, 1, false, detail::library_row_slots,
                                                detail::library_row_cta_threads, launch.tiling);
  if (!launch.vectorised && !detail::choose_staged_shape(n, 1, detail::staged_cta_threads,
                                                         detail::staged_max_floats, launch.staged))
    return status::make(status_code::unsupported_size, 0,
                        "rotq::cuda::quantize: cols = %zu does not fit the staged kernel", cols);
  return quantize_row_launch(function, launch, rows, cols, in, nullptr, quant, out, stream);
}

namespace {

/// `in` as the block-rotation kernel reads it: rows of s.n elements, each element aligned.
status check_block_input(const char* function, const detail::block_rotation_plan_state& s,
                         const device_input& in, std::size_t rows) {
  return detail::check_rows(function, "in", in.data, in.type, in.stride, rows, s.n,
                            element_bytes(in.type));
}

status launch_block_rotation(const char* function, const detail::block_rotation_plan_state& s,
                             element_type type, const detail::row_io& io, bool quantize,
                             const detail::code_target& target, cudaStream_t stream) {
  if (status st =
          check_row_count(function, static_cast<std::size_t>(io.rows), s.shape.rows_per_cta);
      !st)
    return st;
  detail::block_params p;
  p.shape = s.shape;
  p.io = io;
  p.blocks = s.blocks.get<const float>();
  p.gather = s.gather.get<const std::int32_t>();
  p.target = target;
  return from_cuda(function, for_element_type(type, [&](auto kernels) {
                     return decltype(kernels)::block_rotate(p, quantize, stream);
                   }));
}

}  // namespace

status block_rotate(const block_rotation_plan& plan, std::size_t rows, device_input in,
                    device_output out, cudaStream_t stream) {
  const char* function = "block_rotate";
  const detail::block_rotation_plan_state* s = plan.state();
  if (s == nullptr) return empty_plan(function);
  if (status st = check_block_input(function, *s, in, rows); !st) return st;
  if (status st =
          detail::check_output_rows(function, in, out, rows, s->n, detail::vector_alignment, false);
      !st)
    return st;
  if (rows == 0) return {};
  return launch_block_rotation(function, *s, in.type,
                               make_io(rows, in, out.data, out.stride, nullptr), false, {}, stream);
}

status block_rotate_quantize(const block_rotation_plan& plan, std::size_t rows, device_input in,
                             const quant_options& quant, const quantized_output& out,
                             cudaStream_t stream) {
  const char* function = "block_rotate_quantize";
  const detail::block_rotation_plan_state* s = plan.state();
  if (s == nullptr) return empty_plan(function);
  if (status st = check_block_input(function, *s, in, rows); !st) return st;
  if (status st = detail::check_quantized_output(function, in, quant, out, rows, s->n,
                                                 detail::vector_elements);
      !st)
    return st;
  if (rows == 0) return {};
  return launch_block_rotation(function, *s, in.type, make_io(rows, in, nullptr, 0, nullptr), true,
                               detail::to_code_target(quant, out, s->n), stream);
}

}  // namespace cuda
}  // namespace rotq
