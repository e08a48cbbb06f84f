// rotq::cuda::block_rotation_plan: uploads the block matrices and the gather.

#include <cstdint>
#include <memory>
#include <vector>

#include "plan_states.hpp"
#include "rotq/cuda.hpp"

namespace rotq {
namespace cuda {

block_rotation_plan::block_rotation_plan(std::size_t block_size, const std::vector<float>& blocks,
                                         const std::vector<std::size_t>& gather)
    : state_(std::make_unique<detail::block_rotation_plan_state>()) {
  ROTQ_EXPECTS(block_size >= 16 && block_size <= 256 && block_size % 8 == 0,
               "block_size = " << block_size << ", expected a multiple of 8 from 16 to 256");
  const std::size_t matrix = block_size * block_size;
  ROTQ_EXPECTS(!blocks.empty() && blocks.size() % matrix == 0,
               "blocks.size() = " << blocks.size() << ", expected a positive multiple of "
                                  << "block_size^2 = " << matrix);
  const std::size_t n = blocks.size() / matrix * block_size;
  ROTQ_EXPECTS(n <= static_cast<std::size_t>(detail::max_row_length),
               "n = " << n << " (" << blocks.size() / matrix << " blocks of " << block_size
                      << "), expected at most " << detail::max_row_length);
  std::vector<std::int32_t> sources;
  if (!gather.empty()) {
    ROTQ_EXPECTS(gather.size() == n, "gather.size() = " << gather.size() << ", expected n = " << n
                                                        << " or an empty gather");
    std::vector<bool> seen(n, false);
    for (std::size_t j = 0; j < n; ++j) {
      ROTQ_EXPECTS(gather[j] < n && !seen[gather[j]],
                   "gather[" << j << "] = " << gather[j] << ", expected a permutation of 0.."
                             << n - 1 << " (out of range or repeated)");
      seen[gather[j]] = true;
      sources.push_back(static_cast<std::int32_t>(gather[j]));
    }
  }
  detail::block_rotation_plan_state& s = *state_;
  s.n = n;
  s.block_size = block_size;
  s.blocks =
      detail::device_buffer(blocks.data(), blocks.size() * sizeof(float), "the block matrices");
  s.gather =
      detail::device_buffer(sources.data(), sources.size() * sizeof(std::int32_t), "the gather");
  s.has_gather = !sources.empty();
  ROTQ_EXPECTS(
      detail::choose_block_shape(static_cast<int>(n), static_cast<int>(block_size),
                                 detail::block_cta_threads, s.shape),
      "n = " << n << " with block_size = " << block_size << " has no block-rotation kernel shape");
}

block_rotation_plan::~block_rotation_plan() = default;
block_rotation_plan::block_rotation_plan(block_rotation_plan&&) noexcept = default;
block_rotation_plan& block_rotation_plan::operator=(block_rotation_plan&&) noexcept = default;

std::size_t block_rotation_plan::size() const noexcept { return state_ ? state_->n : 0; }

std::size_t block_rotation_plan::block_size() const noexcept {
  return state_ ? state_->block_size : 0;
}

bool block_rotation_plan::has_gather() const noexcept { return state_ && state_->has_gather; }

}  // namespace cuda
}  // namespace rotq
