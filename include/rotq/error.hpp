#pragma once
// rotq::error and ROTQ_EXPECTS: how every host function reports bad input.

#include <sstream>
#include <stdexcept>
#include <string>

namespace rotq {

/// Thrown by every host function on bad input (unsupported size, mismatched shapes, NaN/Inf where
/// it would poison a result, empty calibration data). The message names the function, the
/// argument, the value received and what was expected.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// The name an error message gives a function: "rotq::pipeline::then" from a compiler's pretty
/// signature ("rotq::pipeline& rotq::pipeline::then(rotq::transform)"), or "rotq::" + a bare
/// name. Internal namespaces are left out: users call rotq::fwht, not rotq::detail::....
inline std::string function_name(const char* signature) {
  std::string name = signature;
  const std::size_t paren = name.find('(');
  if (paren != std::string::npos) name.erase(paren);
  const std::size_t space = name.rfind(' ');
  if (space != std::string::npos) name.erase(0, space + 1);
  for (std::size_t at; (at = name.find("::detail::")) != std::string::npos;) name.erase(at, 8);
  // A constructor, "rotq::dense_rotation::dense_rotation", is named by its class.
  const std::size_t last = name.rfind("::");
  if (last != std::string::npos && last > 0) {
    const std::size_t before = name.rfind("::", last - 1);
    const std::string owner = name.substr(before == std::string::npos ? 0 : before + 2,
                                          last - (before == std::string::npos ? 0 : before + 2));
    if (owner.substr(0, owner.find('<')) == name.substr(last + 2)) name.erase(last);
  }
  return name.compare(0, 6, "rotq::") == 0 ? name : "rotq::" + name;
}

[[noreturn]] inline void throw_error(const char* function, const std::string& message) {
  throw error(function_name(function) + ": " + message);
}

}  // namespace detail
}  // namespace rotq

#if defined(__GNUC__) || defined(__clang__)
#define ROTQ_FUNCTION_SIGNATURE __PRETTY_FUNCTION__
#else
#define ROTQ_FUNCTION_SIGNATURE __func__
#endif

/// Checks a precondition; on failure throws rotq::error whose text is the function's qualified
/// name ("rotq::pipeline::then: ") followed by `message`, which is streamed, so values can be
/// spliced in: `"n = " << n << ", expected ..."`.
#define ROTQ_EXPECTS(condition, message)                                         \
  do {                                                                           \
    if (!(condition)) {                                                          \
      std::ostringstream rotq_message_;                                          \
      rotq_message_ << message;                                                  \
      ::rotq::detail::throw_error(ROTQ_FUNCTION_SIGNATURE, rotq_message_.str()); \
    }                                                                            \
  } while (false)
