// Catch2 main of the GPU tests: on a machine without a CUDA device, running tests exits with 77,
// which ctest reports as skipped (SKIP_RETURN_CODE), never as passed or failed; listing tests
// (what catch_discover_tests does at build time) works everywhere.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>

#include <cstdio>

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int error = session.applyCommandLine(argc, argv); error != 0) return error;
  const Catch::ConfigData& config = session.configData();
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters || config.showHelp;
  if (!listing) {
    int devices = 0;
    const cudaError_t e = cudaGetDeviceCount(&devices);
    if (e != cudaSuccess || devices == 0) {
      std::printf("SKIPPED: no CUDA device (%s); the GPU tests need one\n",
                  e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
      return 77;
    }
  }
  return session.run();
}
