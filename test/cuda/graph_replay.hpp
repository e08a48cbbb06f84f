#pragma once
// Running launchers inside a CUDA graph, as engines do: capture on a fresh stream (global mode,
// so any forbidden call during the capture fails it), instantiate, replay, wait. Resources are
// released however the test ends.

#include <rotq/cuda.hpp>

#include <catch2/catch.hpp>
#include <cuda_runtime_api.h>

#include "cuda/device_rows.hpp"

namespace rotq_test {

class captured_graph {
public:
  captured_graph() { REQUIRE_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~captured_graph() {
    if (exec_ != nullptr) cudaGraphExecDestroy(exec_);
    if (graph_ != nullptr) cudaGraphDestroy(graph_);
    cudaStreamDestroy(stream_);
  }
  captured_graph(const captured_graph&) = delete;
  captured_graph& operator=(const captured_graph&) = delete;

  /// Captures what enqueue(stream) launches (it returns the launchers' combined status), then
  /// replays the graph once and waits for it. REQUIREs success at every step.
  template <class Enqueue>
  void capture_and_replay(Enqueue&& enqueue) {
    REQUIRE_CUDA(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal));
    const rotq::cuda::status captured = enqueue(stream_);
    const cudaError_t ended = cudaStreamEndCapture(stream_, &graph_);
    REQUIRE_OK(captured);
    REQUIRE_CUDA(ended);
    REQUIRE_CUDA(cudaGraphInstantiate(&exec_, graph_, 0));
    REQUIRE_CUDA(cudaGraphLaunch(exec_, stream_));
    REQUIRE_CUDA(cudaStreamSynchronize(stream_));
  }

private:
  cudaStream_t stream_ = nullptr;
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace rotq_test
