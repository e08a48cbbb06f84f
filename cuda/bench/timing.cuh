#pragma once
// What the CUDA benchmarks share: device buffers, a copy kernel that moves the same bytes as the
// kernel under test (the baseline every figure is a ratio to, measured in the same run), CUDA
// event timing reported as Google Benchmark manual time, and the counters (GB/s, share of copy
// bandwidth).

#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>
#include <rotq/detail/splitmix64.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace rotq_bench {

inline void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
  std::exit(1);
}

/// Byte i of a buffer of bfloat16 noise: value i / 2 is uniform in [-4, 4), drawn from
/// SplitMix64 output i / 2. Benchmarks time the kernels on noise, never on constant rows: the
/// transform of a constant row is zero but for one element, and a zero quotient takes the slow
/// path of an IEEE division, so a constant input times another code path than real activations.
__global__ void fill_bfloat16_noise(std::uint8_t* bytes, std::int64_t count) {
  const std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const std::uint64_t random = rotq::detail::splitmix64_at(1, static_cast<std::uint64_t>(i / 2));
  const float value = static_cast<float>(random >> 40) * 0x1p-21f - 4.0f;
  const std::uint32_t word = __float_as_uint(value) >> 16;
  bytes[i] = static_cast<std::uint8_t>(i % 2 == 0 ? word : word >> 8);
}

/// Device memory, filled with bfloat16 noise (fill_bfloat16_noise): every benchmark input is a
/// bf16 row, and outputs do not care what they overwrite.
class device_memory {
public:
  explicit device_memory(std::size_t bytes) : bytes_(bytes) {
    check(cudaMalloc(&data_, bytes == 0 ? 16 : bytes), "cudaMalloc");
    const unsigned threads = 256;
    const std::size_t blocks = (bytes + threads - 1) / threads;
    if (blocks > 0)
      fill_bfloat16_noise<<<static_cast<unsigned>(blocks), threads>>>(
          static_cast<std::uint8_t*>(data_), static_cast<std::int64_t>(bytes));
    check(cudaDeviceSynchronize(), "fill_bfloat16_noise");
  }
  ~device_memory() { cudaFree(data_); }
  device_memory(const device_memory&) = delete;
  device_memory& operator=(const device_memory&) = delete;
  template <class T = void>
  T* get() const {
    return static_cast<T*>(data_);
  }
  std::size_t size() const { return bytes_; }

private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// Reads InBytes and writes OutBytes (each a multiple of 4, at most 32) per 8-element vector, as
/// a transform from an InBytes / 8 type to an OutBytes / 8 one does: the copy baseline.
template <int InBytes, int OutBytes>
__global__ void copy_vectors(const std::uint32_t* in, std::uint32_t* out, std::int64_t vectors) {
  const std::int64_t v = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (v >= vectors) return;
  std::uint32_t words[InBytes / 4];
  const uint4* source = reinterpret_cast<const uint4*>(in + v * (InBytes / 4));
#pragma unroll
  for (int i = 0; i < InBytes / 16; ++i) {
    const uint4 w = source[i];
    words[4 * i] = w.x, words[4 * i + 1] = w.y, words[4 * i + 2] = w.z, words[4 * i + 3] = w.w;
  }
  std::uint32_t* target = out + v * (OutBytes / 4);
#pragma unroll
  for (int i = 0; i < OutBytes / 4; ++i) {
    std::uint32_t mixed = 0;
#pragma unroll
    for (int j = i; j < InBytes / 4; j += OutBytes / 4) mixed ^= words[j];
    target[i] = mixed;
  }
}

/// Two CUDA events that time calls on one stream (the default stream unless told).
class event_timer {
public:
  event_timer() {
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~event_timer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  event_timer(const event_timer&) = delete;
  event_timer& operator=(const event_timer&) = delete;

  /// GPU time of one call of `launch` (which launches on `stream`), in seconds.
  double seconds(const std::function<void()>& launch, cudaStream_t stream = nullptr) {
    check(cudaEventRecord(start_, stream), "cudaEventRecord");
    launch();
    check(cudaEventRecord(stop_, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop_), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    return ms * 1e-3;
  }

private:
  cudaEvent_t start_, stop_;
};

/// GPU time of one call of `launch` (which launches on `stream`) in seconds: the median of
/// `repeats` event-timed calls.
inline double median_seconds(const std::function<void()>& launch, int repeats = 21,
                             cudaStream_t stream = nullptr) {
  event_timer timer;
  launch();  // warm-up: opt-in attributes, instruction caches, TLB
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) times.push_back(timer.seconds(launch, stream));
  std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
  return times[repeats / 2];
}

/// GPU time per call of `launch` (which launches on the stream it is given) when `calls` calls
/// run back to back from one CUDA graph: the median of 11 timed replays, divided by `calls`. This
/// is a decode step's cost in a runtime that replays graphs, without the host's launch overhead
/// that the event timing of single calls includes.
inline double graph_seconds_per_call(const std::function<void(cudaStream_t)>& launch,
                                     int calls = 64) {
  cudaStream_t stream;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  for (int i = 0; i < calls; ++i) launch(stream);
  cudaGraph_t graph;
  check(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture");
  cudaGraphExec_t exec;
  check(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  const double seconds =
      median_seconds([&] { check(cudaGraphLaunch(exec, stream), "cudaGraphLaunch"); }, 11, stream);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(stream);
  return seconds / calls;
}

/// The copy baseline for `elements` elements: seconds per call.
template <int InBytes, int OutBytes>
double copy_seconds(std::int64_t elements) {
  const std::int64_t vectors = elements / 8;
  device_memory in(static_cast<std::size_t>(vectors) * InBytes);
  device_memory out(static_cast<std::size_t>(vectors) * OutBytes);
  const unsigned threads = 256;
  const unsigned blocks = static_cast<unsigned>((vectors + threads - 1) / threads);
  return median_seconds([&] {
    copy_vectors<InBytes, OutBytes>
        <<<blocks, threads>>>(in.get<const std::uint32_t>(), out.get<std::uint32_t>(), vectors);
  });
}

/// Times `launch` with CUDA events as the benchmark's manual time, then sets the counters:
/// GB/s of the kernel and of the copy baseline (`bytes` moved per call), their ratio
/// (copy_fraction = kernel bandwidth / copy bandwidth) and microseconds per call.
inline void time_against_copy(benchmark::State& state, const std::function<void()>& launch,
                              double bytes, double copy_time) {
  event_timer timer;
  launch();
  check(cudaDeviceSynchronize(), "warm-up launch");
  double total = 0;
  for (auto _ : state) {
    const double call = timer.seconds(launch);
    state.SetIterationTime(call);
    total += call;
  }
  const double seconds = total / static_cast<double>(state.iterations());
  state.counters["us_per_call"] = seconds * 1e6;
  state.counters["GB/s"] = bytes / seconds * 1e-9;
  state.counters["copy_GB/s"] = bytes / copy_time * 1e-9;
  state.counters["copy_fraction"] = copy_time / seconds;
}

}  // namespace rotq_bench
