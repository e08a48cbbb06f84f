#pragma once
// rotq::transform: any one of the transform kinds, behind one interface.
//
// Every kind is a value type with size(), apply_activations (rows x <- x T), apply_weights
// (rows w <- w T^-T), matrix() (the dense T) and inverse() (T^-1), so that for every transform
// (X T)(W T^-T)^T = X W^T up to rounding. `transform` holds any of them; a `pipeline`
// (pipeline.hpp) composes them.

#include <Eigen/Core>

#include <type_traits>
#include <utility>
#include <variant>

#include "rotq/channel_scaling.hpp"
#include "rotq/hadamard_transform.hpp"
#include "rotq/permutation.hpp"
#include "rotq/rotation.hpp"

namespace rotq {

class transform {
public:
  using variant_type = std::variant<hadamard_transform, random_hadamard, channel_scaling,
                                    permutation, block_rotation, dense_rotation>;

  /// Any transform kind converts to a transform.
  template <class Kind, std::enable_if_t<std::is_constructible_v<variant_type, Kind&&> &&
                                             !std::is_same_v<std::decay_t<Kind>, transform>,
                                         int> = 0>
  transform(Kind&& kind) : value_(std::forward<Kind>(kind)) {}  // NOLINT: kinds are transforms

  std::size_t size() const {
    return std::visit([](const auto& t) { return t.size(); }, value_);
  }
  /// The kind's name: "hadamard", "random_hadamard", "channel_scaling", "permutation",
  /// "block_rotation" or "dense_rotation".
  const char* kind() const {
    return std::visit([](const auto& t) { return std::decay_t<decltype(t)>::kind; }, value_);
  }

  void apply_activations(matrix_view<float> x) const { visit_apply(x, true); }
  void apply_activations(matrix_view<double> x) const { visit_apply(x, true); }
  void apply_weights(matrix_view<float> w) const { visit_apply(w, false); }
  void apply_weights(matrix_view<double> w) const { visit_apply(w, false); }

  Eigen::MatrixXd matrix() const {
    return std::visit([](const auto& t) { return Eigen::MatrixXd(t.matrix()); }, value_);
  }

  transform inverse() const {
    return std::visit([](const auto& t) { return transform(t.inverse()); }, value_);
  }

  /// The held kind, or null when it is another one.
  template <class Kind>
  const Kind* get_if() const {
    return std::get_if<Kind>(&value_);
  }
  const variant_type& value() const { return value_; }

private:
  template <class T>
  void visit_apply(matrix_view<T> x, bool activations) const {
    std::visit(
        [&](const auto& t) {
          if (activations)
            t.apply_activations(x);
          else
            t.apply_weights(x);
        },
        value_);
  }

  variant_type value_;
};

}  // namespace rotq
