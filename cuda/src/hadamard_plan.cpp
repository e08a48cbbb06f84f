// rotq::cuda::hadamard_plan: uploads H_m and the random signs, picks the kernel shape for n.

#include <cmath>
#include <memory>
#include <vector>

#include "plan_states.hpp"
#include "rotq/cuda.hpp"
#include "rotq/cuda/detail/sign_tables.hpp"
#include "rotq/hadamard.hpp"

namespace rotq {
namespace cuda {

static_assert(normalization{} == normalization::orthonormal,
              "hadamard_options::norm value-initialises to the orthonormal default");

hadamard_plan::hadamard_plan(std::size_t n, const hadamard_options& options)
    : state_(std::make_unique<detail::hadamard_plan_state>()) {
  ROTQ_EXPECTS(n >= 2 && n <= static_cast<std::size_t>(detail::max_row_length),
               "n = " << n << ", expected 2 to " << detail::max_row_length
                      << " (one row is staged in one CTA's shared memory)");
  ROTQ_EXPECTS(hadamard_supported(n),
               "n = " << n
                      << " is not a supported Hadamard size; expected a power of two or "
                         "m * 2^k with a Hadamard matrix of order m = 4 * odd(n) known to rotq");
  detail::hadamard_plan_state& s = *state_;
  s.n = n;
  s.m = hadamard_base_order(n);
  s.options = options;
  if (s.m > 1) {
    const std::vector<std::uint32_t> packed =
        detail::pack_base_signs(hadamard_base_signs(s.m), s.m, options.inverse);
    s.base_signs = detail::device_buffer(packed.data(), packed.size() * sizeof(std::uint32_t),
                                         "the H_m sign table");
  }
  if (options.random_signs) {
    const std::vector<std::uint8_t> packed = detail::pack_random_signs(n, options.seed);
    s.random_signs = detail::device_buffer(packed.data(), packed.size(), "the random signs");
  }
  s.tables.m = static_cast<int>(s.m);
  s.tables.base_signs = s.base_signs.get<const std::uint32_t>();
  s.tables.random_signs = s.random_signs.get<const std::uint8_t>();
  s.tables.signs_after = options.inverse;
  // The host's constant: fwht scales by T(1 / sqrt(double(n))).
  s.tables.scale = options.norm == normalization::orthonormal
                       ? static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)))
                       : 1.0f;
  s.vectorised = detail::choose_row_tiling(static_cast<int>(n), static_cast<int>(s.m), true,
                                           detail::library_row_slots,
                                           detail::library_row_cta_threads, s.tiling);
  if (s.vectorised)
    ROTQ_EXPECTS(
        detail::choose_decode_tiling(static_cast<int>(n), static_cast<int>(s.m), s.decode_tiling),
        "n = " << n << " has a row tiling but no decode tiling");
  else
    ROTQ_EXPECTS(detail::choose_staged_shape(static_cast<int>(n), static_cast<int>(s.m),
                                             detail::staged_cta_threads, detail::staged_max_floats,
                                             s.staged),
                 "n = " << n << " (m = " << s.m << ") does not fit the staged kernel's "
                        << detail::staged_max_floats * 4 << " bytes of shared memory");
}

hadamard_plan::~hadamard_plan() = default;
hadamard_plan::hadamard_plan(hadamard_plan&&) noexcept = default;
hadamard_plan& hadamard_plan::operator=(hadamard_plan&&) noexcept = default;

std::size_t hadamard_plan::size() const noexcept { return state_ ? state_->n : 0; }

std::size_t hadamard_plan::base_order() const noexcept { return state_ ? state_->m : 0; }

const hadamard_options& hadamard_plan::options() const noexcept {
  static const hadamard_options none;
  return state_ ? state_->options : none;
}

}  // namespace cuda
}  // namespace rotq
