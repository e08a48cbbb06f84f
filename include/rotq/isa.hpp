#pragma once
// Which instruction set the CPU kernels use: chosen once at first use, overridable for tests,
// benchmarks and reproducibility (environment variable ROTQ_ISA or rotq::set_isa).

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "rotq/config.hpp"
#include "rotq/error.hpp"

#if ROTQ_HAS_X86_DISPATCH
#include <cpuid.h>
#endif

namespace rotq {

enum class isa { portable, avx2, avx512, neon };

/// Every instruction set rotq knows, whether or not this build or CPU has it.
inline constexpr isa known_isas[] = {isa::portable, isa::avx2, isa::avx512, isa::neon};

/// "portable", "avx2", "avx512", "neon", or "unknown" for a value outside the enum.
inline const char* isa_name(isa which) {
  switch (which) {
    case isa::portable: return "portable";
    case isa::avx2: return "avx2";
    case isa::avx512: return "avx512";
    case isa::neon: return "neon";
  }
  return "unknown";
}

#if ROTQ_HAS_X86_DISPATCH
namespace detail {
/// F16C (half <-> float conversions, used for Eigen::half rows), which every processor with AVX2
/// has; clang's __builtin_cpu_supports does not know its name, so CPUID is asked directly.
inline bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
}  // namespace detail
#endif

/// True when rotq was compiled with kernels for `which` and this CPU can run them. AVX2 means
/// AVX2, FMA and F16C; AVX-512 means F and DQ on top of those.
inline bool isa_available(isa which) {
  if (which == isa::portable) return true;
#if ROTQ_HAS_NEON
  if (which == isa::neon) return true;
#endif
#if ROTQ_HAS_X86_DISPATCH
  __builtin_cpu_init();
  const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && detail::cpu_has_f16c();
  if (which == isa::avx2) return avx2;
  if (which == isa::avx512)
    return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif
  return false;
}

namespace detail {

inline isa best_available_isa() {
  if (isa_available(isa::avx512)) return isa::avx512;
  if (isa_available(isa::avx2)) return isa::avx2;
  if (isa_available(isa::neon)) return isa::neon;
  return isa::portable;
}

inline bool parse_isa(const char* text, isa& out) {
  for (isa which : known_isas)
    if (std::strcmp(text, isa_name(which)) == 0) {
      out = which;
      return true;
    }
  return false;
}

/// The chosen instruction set, or -1 until the first active_isa() or set_isa() chooses one.
inline std::atomic<int>& isa_state() {
  static std::atomic<int> state{-1};
  return state;
}

/// What ROTQ_ISA (portable, avx2, avx512 or neon) asks for, else the best available. An unknown or
/// unavailable value is an error rather than a silent fallback, so a benchmark never measures
/// something else.
inline isa isa_from_environment() {
  isa chosen = best_available_isa();
  if (const char* env = std::getenv("ROTQ_ISA"); env != nullptr && *env != '\0') {
    if (!parse_isa(env, chosen))
      throw_error("rotq::active_isa",
                  std::string("ROTQ_ISA = '") + env + "': expected portable, avx2, avx512 or neon");
    if (!isa_available(chosen))
      throw_error("rotq::active_isa",
                  std::string("ROTQ_ISA = '") + env + "': this CPU (or this build) cannot run it");
  }
  return chosen;
}

}  // namespace detail

/// The instruction set the CPU kernels use now. The first call reads ROTQ_ISA, unless set_isa
/// chose before; a ROTQ_ISA that cannot be used throws rotq::error here (every transform asks).
inline isa active_isa() {
  int state = detail::isa_state().load(std::memory_order_acquire);
  if (state < 0) {
    int unset = -1;
    detail::isa_state().compare_exchange_strong(
        unset, static_cast<int>(detail::isa_from_environment()), std::memory_order_acq_rel);
    state = detail::isa_state().load(std::memory_order_acquire);
  }
  return static_cast<isa>(state);
}

/// Selects the instruction set for every later call, in every thread, whatever ROTQ_ISA says.
/// Throws rotq::error when `which` is not available here.
inline void set_isa(isa which) {
  ROTQ_EXPECTS(isa_available(which), "isa = " << isa_name(which) << " (" << static_cast<int>(which)
                                              << ") is not available on this CPU or in this build");
  detail::isa_state().store(static_cast<int>(which), std::memory_order_release);
}

}  // namespace rotq
