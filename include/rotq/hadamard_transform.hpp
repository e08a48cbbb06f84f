#pragma once
// Hadamard transforms as transform values: hadamard_transform (T = H_n^T) and random_hadamard
// (QuaRot / SpinQuant R1: T = D_s H_n^T).

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rotq/detail/apply_check.hpp"
#include "rotq/hadamard.hpp"

namespace rotq {

/// T = H_n^T (orthonormal), so a row x becomes x H_n^T = H_n x: exactly fwht on every row. Weights
/// get the same map (T is orthogonal). inverse() is T = H_n, applied by fwht_transposed.
class hadamard_transform {
public:
  static constexpr const char* kind = "hadamard";

  /// Throws rotq::error unless hadamard_supported(n).
  explicit hadamard_transform(std::size_t n, bool transposed = false)
      : n_(n), transposed_(transposed) {
    ROTQ_EXPECTS(hadamard_supported(n), "n = " << n << " is not a supported Hadamard size");
  }

  std::size_t size() const { return n_; }
  /// False: T = H_n^T (rows get H_n). True: T = H_n (rows get H_n^T), the inverse.
  bool transposed() const { return transposed_; }

  void apply_activations(matrix_view<float> x) const { apply(x); }
  void apply_activations(matrix_view<double> x) const { apply(x); }
  void apply_weights(matrix_view<float> w) const { apply(w); }
  void apply_weights(matrix_view<double> w) const { apply(w); }

  Eigen::MatrixXd matrix() const {
    const Eigen::MatrixXd h = hadamard_matrix(n_);
    return transposed_ ? h : Eigen::MatrixXd(h.transpose());
  }

  hadamard_transform inverse() const { return hadamard_transform(n_, !transposed_); }

private:
  template <class T>
  void apply(matrix_view<T> x) const {
    detail::expect_width(x, n_, "hadamard_transform::apply");
    if (transposed_)
      fwht_rows_transposed(x);
    else
      fwht_rows(x);
  }

  std::size_t n_;
  bool transposed_;
};

/// QuaRot's random Hadamard: T = D_s H_n^T with the signs s of random_signs(n, seed); a row x
/// becomes H_n (x * s): flip signs, then transform. Orthogonal, so weights get the same map.
/// inverse() is T = H_n D_s: transform with H_n^T, then flip signs.
class random_hadamard {
public:
  static constexpr const char* kind = "random_hadamard";

  /// Throws rotq::error unless hadamard_supported(n).
  random_hadamard(std::size_t n, std::uint64_t seed, bool inverted = false)
      : n_(n), seed_(seed), inverted_(inverted), signs_(supported_signs(n, seed)) {}

  std::size_t size() const { return n_; }
  std::uint64_t seed() const { return seed_; }
  /// True for the inverse map T = H_n D_s.
  bool inverted() const { return inverted_; }
  const std::vector<int>& signs() const { return signs_; }

  void apply_activations(matrix_view<float> x) const { apply(x); }
  void apply_activations(matrix_view<double> x) const { apply(x); }
  void apply_weights(matrix_view<float> w) const { apply(w); }
  void apply_weights(matrix_view<double> w) const { apply(w); }

  Eigen::MatrixXd matrix() const {
    Eigen::MatrixXd t = hadamard_matrix(n_).transpose();                       // H_n^T
    for (std::size_t i = 0; i < n_; ++i) t.row(Eigen::Index(i)) *= signs_[i];  // D_s H_n^T
    return inverted_ ? Eigen::MatrixXd(t.transpose()) : t;
  }

  random_hadamard inverse() const { return random_hadamard(n_, seed_, !inverted_); }

private:
  // The signs once n is known to be supported (an unsupported n, e.g. one read from a damaged
  // file, would otherwise first cost an allocation of n signs).
  static std::vector<int> supported_signs(std::size_t n, std::uint64_t seed) {
    if (!hadamard_supported(n))
      detail::throw_error("rotq::random_hadamard",
                          "n = " + std::to_string(n) + " is not a supported Hadamard size");
    return random_signs(n, seed);
  }

  template <class T>
  void apply(matrix_view<T> x) const {
    detail::expect_width(x, n_, "random_hadamard::apply");
    if (!inverted_) {
      flip_signs(x);
      fwht_rows(x);
    } else {
      fwht_rows_transposed(x);
      flip_signs(x);
    }
  }

  template <class T>
  void flip_signs(matrix_view<T> x) const {
    for (std::size_t r = 0; r < x.rows; ++r) {
      T* row = x.row(r);
      for (std::size_t i = 0; i < n_; ++i) row[i] *= static_cast<T>(signs_[i]);
    }
  }

  std::size_t n_;
  std::uint64_t seed_;
  bool inverted_;
  std::vector<int> signs_;
};

}  // namespace rotq
