# Cross-compiling rotq for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu; the programs run
# here under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), reading the target's libraries from the
# cross toolchain's folder. Eigen and Catch2 are header-only and come from the host's packages.
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
