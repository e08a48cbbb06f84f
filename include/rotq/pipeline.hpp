#pragma once
// rotq::pipeline: transforms composed in order, X -> X T1 T2 ... Tk.

#include <Eigen/Core>

#include <cstddef>
#include <utility>
#include <vector>

#include "rotq/transform.hpp"

namespace rotq {

/// An ordered composition T = T1 T2 ... Tk of transforms of one size. Activations go through the
/// stages in order; weights too, each stage applying its own T_i^-T, because
/// (T1 ... Tk)^-T = T1^-T ... Tk^-T. An empty pipeline is the identity of any size.
class pipeline {
public:
  pipeline() = default;

  /// Appends a stage. Throws rotq::error if its size differs from the pipeline's.
  pipeline& then(transform stage) {
    ROTQ_EXPECTS(stages_.empty() || stage.size() == size(),
                 "the " << stage.kind() << " stage has size " << stage.size()
                        << ", expected the pipeline's size " << size());
    stages_.push_back(std::move(stage));
    return *this;
  }

  /// Appends every stage of `other`, in order; `other` may be this pipeline (p.then(p) repeats
  /// its stages).
  pipeline& then(const pipeline& other) {
    const std::size_t count = other.stages_.size();
    stages_.reserve(stages_.size() + count);  // no reallocation: p.then(p) reads stages in place
    for (std::size_t i = 0; i < count; ++i) then(other.stages_[i]);
    return *this;
  }

  /// n, or 0 for an empty pipeline.
  std::size_t size() const { return stages_.empty() ? 0 : stages_.front().size(); }
  bool empty() const { return stages_.empty(); }
  const std::vector<transform>& stages() const { return stages_; }

  void apply_activations(matrix_view<float> x) const { run(x, true); }
  void apply_activations(matrix_view<double> x) const { run(x, true); }
  void apply_weights(matrix_view<float> w) const { run(w, false); }
  void apply_weights(matrix_view<double> w) const { run(w, false); }

  /// The dense T1 T2 ... Tk. Throws rotq::error for an empty pipeline, whose size is unknown.
  Eigen::MatrixXd matrix() const {
    ROTQ_EXPECTS(!stages_.empty(), "the pipeline is empty: it has no size to build a matrix of");
    Eigen::MatrixXd t = stages_.front().matrix();
    for (std::size_t i = 1; i < stages_.size(); ++i) t = t * stages_[i].matrix();
    return t;
  }

  /// T^-1 = Tk^-1 ... T1^-1.
  pipeline inverse() const {
    pipeline result;
    for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) result.then(it->inverse());
    return result;
  }

private:
  template <class T>
  void run(matrix_view<T> x, bool activations) const {
    for (const auto& stage : stages_) {
      if (activations)
        stage.apply_activations(x);
      else
        stage.apply_weights(x);
    }
  }

  std::vector<transform> stages_;
};

}  // namespace rotq
