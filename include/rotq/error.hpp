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

[[noreturn]] inline void throw_error(const char* function, const std::string& message) {
  throw error(std::string("rotq::") + function + ": " + message);
}

}  // namespace detail
}  // namespace rotq

/// Checks a precondition; on failure throws rotq::error whose text is "rotq::<function>: " followed
/// by `message`, which is streamed, so values can be spliced in: `"n = " << n << ", expected ..."`.
#define ROTQ_EXPECTS(condition, message)                 \
  do {                                                   \
    if (!(condition)) {                                  \
      std::ostringstream rotq_message_;                  \
      rotq_message_ << message;                          \
      ::rotq::detail::throw_error(__func__, rotq_message_.str()); \
    }                                                    \
  } while (false)
