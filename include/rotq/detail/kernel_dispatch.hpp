#pragma once
// The choice, at run time, of one instruction set's table from a family of kernel tables.

#include "rotq/config.hpp"
#include "rotq/isa.hpp"

namespace rotq {
namespace detail {

/// The table of the active instruction set (rotq::active_isa) in Family, looked up on every call
/// so that set_isa takes effect at once; the lookup is an atomic load and a switch. Family has a
/// `table` type and static functions returning one: `portable()` and, in builds that have their
/// kernels, `avx2()` and `avx512()` (x86) or `neon()` (AArch64).
template <class Family>
const typename Family::table& active_kernels() {
#if ROTQ_HAS_X86_DISPATCH
  switch (active_isa()) {
    case isa::avx512: return Family::avx512();
    case isa::avx2: return Family::avx2();
    default: break;
  }
#elif ROTQ_HAS_NEON
  if (active_isa() == isa::neon) return Family::neon();
#endif
  return Family::portable();
}

}  // namespace detail
}  // namespace rotq
