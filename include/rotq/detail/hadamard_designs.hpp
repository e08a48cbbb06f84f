#pragma once
// Generators of the Hadamard base orders that rotq's Paley constructions cannot reach.
//
// Each matrix is an a x a array of b x b blocks; every block is a signed circulant or
// back-circulant matrix defined by its first row. A layout token "<sign><generator><kind>" gives,
// per block in row-major order, the sign, which generator row (A, B, ...) and the kind: 'c' for
// circulant (entry (i, j) = row[(j - i) mod b]) or 'b' for back-circulant (row[(i + j) mod b]).
// Generator rows are hex strings, most significant bit first, a set bit meaning -1, padded with
// zero bits to whole hex digits.
//
// These generators were read off the sign tables in shared/hadamard/ (N. J. A. Sloane's library
// for 92..236 and 428, the others from the sources that README names): the Williamson orders are
// 4 x 4 arrays of circulants, the Goethals-Seidel ones 4 x 4 arrays of back-circulants around a
// circulant diagonal, 372 and 612 12 x 12 arrays of circulants, and 532 a 28 x 28 array. The test
// test/hadamard_constructions.cpp rebuilds each one and compares it, entry by entry, with the
// table it came from. Orders 324, 436 and 596 have no such structure; Miyamoto's construction
// (hadamard_miyamoto.hpp) builds them instead.

#include <cstddef>

namespace rotq {
namespace detail {

struct block_circulant_design {
  std::size_t order;       ///< m = blocks * block_size
  std::size_t blocks;      ///< blocks per side (a)
  std::size_t block_size;  ///< b
  const char* layout;      ///< blocks * blocks tokens, space separated
  const char* generators;  ///< hex first rows, space separated
};

inline constexpr const char* williamson_layout =
    "+Ac +Bc +Cc +Dc "
    "-Bc +Ac -Dc +Cc "
    "-Cc +Dc +Ac -Bc "
    "-Dc -Cc +Bc +Ac ";

inline constexpr const char* goethals_seidel_layout =
    "+Ac +Bb +Cb +Db "
    "-Bb +Ac +Eb +Fb "
    "-Cb -Eb +Ac +Gb "
    "-Db -Fb -Gb +Ac ";

inline constexpr const char* array12_layout =
    "+Ac +Ac +Ac +Bc -Bc +Cc -Cc -Cc +Bc +Cc -Cc -Cc "
    "+Ac -Ac +Bc -Ac -Bc -Cc +Cc -Cc -Bc -Cc -Cc -Cc "
    "+Ac -Bc -Ac +Ac -Cc +Cc -Bc +Bc -Cc -Cc +Cc -Cc "
    "+Bc +Ac -Ac -Ac +Cc +Cc +Cc +Cc +Cc -Bc -Bc -Cc "
    "+Bc -Cc +Cc +Cc +Ac +Ac +Ac +Cc -Cc +Bc -Cc +Bc "
    "+Bc +Cc -Cc +Cc +Ac -Ac +Cc -Ac -Cc +Cc +Bc -Bc "
    "+Cc -Cc +Bc -Bc +Ac -Cc -Ac +Ac +Bc +Cc +Cc -Cc "
    "-Cc -Cc -Cc -Cc +Cc +Ac -Ac -Ac -Cc +Bc -Bc -Bc "
    "+Cc -Cc -Bc -Bc -Bc +Cc +Cc -Cc +Ac +Ac +Ac +Cc "
    "-Cc -Bc +Cc +Cc +Cc +Bc +Bc -Cc +Ac -Ac +Cc -Ac "
    "+Cc -Bc -Cc +Cc +Cc -Bc -Cc -Bc +Ac -Cc -Ac +Ac "
    "-Cc -Cc -Cc +Cc -Cc -Bc +Bc +Bc +Cc +Ac -Ac -Ac ";

inline constexpr const char* array28_layout_532 =
    "+Ac +Ac -Ac +Bc +Cc +Bc +Cc +Db +Eb -Db +Eb +Fb -Fb -Fb "
    "+Fb +Db +Eb +Db -Db +Db +Db +Eb -Db -Fb -Db -Db +Db +Db "
    "+Cc +Ac +Ac -Ac +Bc +Cc +Bc +Eb -Db +Eb +Fb -Fb -Fb +Db "
    "+Db +Eb +Db -Db +Db +Db +Fb -Db -Fb -Db -Db +Db +Db +Eb "
    "+Bc +Cc +Ac +Ac -Ac +Bc +Cc -Db +Eb +Fb -Fb -Fb +Db +Eb "
    "+Eb +Db -Db +Db +Db +Fb +Db -Fb -Db -Db +Db +Db +Eb -Db "
    "+Cc +Bc +Cc +Ac +Ac -Ac +Bc +Eb +Fb -Fb -Fb +Db +Eb -Db "
    "+Db -Db +Db +Db +Fb +Db +Eb -Db -Db +Db +Db +Eb -Db -Fb "
    "+Bc +Cc +Bc +Cc +Ac +Ac -Ac +Fb -Fb -Fb +Db +Eb -Db +Eb "
    "-Db +Db +Db +Fb +Db +Eb +Db -Db +Db +Db +Eb -Db -Fb -Db "
    "-Ac +Bc +Cc +Bc +Cc +Ac +Ac -Fb -Fb +Db +Eb -Db +Eb +Fb "
    "+Db +Db +Fb +Db +Eb +Db -Db +Db +Db +Eb -Db -Fb -Db -Db "
    "+Ac -Ac +Bc +Cc +Bc +Cc +Ac -Fb +Db +Eb -Db +Eb +Fb -Fb "
    "+Db +Fb +Db +Eb +Db -Db +Db +Db +Eb -Db -Fb -Db -Db +Db "
    "-Db -Eb +Db -Eb -Fb +Fb +Fb +Ac +Ac -Ac +Bc +Cc +Bc +Cc "
    "+Db -Db -Db -Fb -Db +Eb +Db -Db +Db -Db -Eb -Db -Fb -Db "
    "-Eb +Db -Eb -Fb +Fb +Fb -Db +Cc +Ac +Ac -Ac +Bc +Cc +Bc "
    "-Db -Db -Fb -Db +Eb +Db +Db +Db -Db -Eb -Db -Fb -Db -Db "
    "+Db -Eb -Fb +Fb +Fb -Db -Eb +Bc +Cc +Ac +Ac -Ac +Bc +Cc "
    "-Db -Fb -Db +Eb +Db +Db -Db -Db -Eb -Db -Fb -Db -Db +Db "
    "-Eb -Fb +Fb +Fb -Db -Eb +Db +Cc +Bc +Cc +Ac +Ac -Ac +Bc "
    "-Fb -Db +Eb +Db +Db -Db -Db -Eb -Db -Fb -Db -Db +Db -Db "
    "-Fb +Fb +Fb -Db -Eb +Db -Eb +Bc +Cc +Bc +Cc +Ac +Ac -Ac "
    "-Db +Eb +Db +Db -Db -Db -Fb -Db -Fb -Db -Db +Db -Db -Eb "
    "+Fb +Fb -Db -Eb +Db -Eb -Fb -Ac +Bc +Cc +Bc +Cc +Ac +Ac "
    "+Eb +Db +Db -Db -Db -Fb -Db -Fb -Db -Db +Db -Db -Eb -Db "
    "+Fb -Db -Eb +Db -Eb -Fb +Fb +Ac -Ac +Bc +Cc +Bc +Cc +Ac "
    "+Db +Db -Db -Db -Fb -Db +Eb -Db -Db +Db -Db -Eb -Db -Fb "
    "-Fb -Db -Eb -Db +Db -Db -Db -Db +Db +Db +Fb +Db -Eb -Db "
    "+Ac +Ac -Ac +Bc +Cc +Bc +Cc -Fb +Fb +Eb -Db +Eb +Db -Fb "
    "-Db -Eb -Db +Db -Db -Db -Fb +Db +Db +Fb +Db -Eb -Db -Db "
    "+Cc +Ac +Ac -Ac +Bc +Cc +Bc +Fb +Eb -Db +Eb +Db -Fb -Fb "
    "-Eb -Db +Db -Db -Db -Fb -Db +Db +Fb +Db -Eb -Db -Db +Db "
    "+Bc +Cc +Ac +Ac -Ac +Bc +Cc +Eb -Db +Eb +Db -Fb -Fb +Fb "
    "-Db +Db -Db -Db -Fb -Db -Eb +Fb +Db -Eb -Db -Db +Db +Db "
    "+Cc +Bc +Cc +Ac +Ac -Ac +Bc -Db +Eb +Db -Fb -Fb +Fb +Eb "
    "+Db -Db -Db -Fb -Db -Eb -Db +Db -Eb -Db -Db +Db +Db +Fb "
    "+Bc +Cc +Bc +Cc +Ac +Ac -Ac +Eb +Db -Fb -Fb +Fb +Eb -Db "
    "-Db -Db -Fb -Db -Eb -Db +Db -Eb -Db -Db +Db +Db +Fb +Db "
    "-Ac +Bc +Cc +Bc +Cc +Ac +Ac +Db -Fb -Fb +Fb +Eb -Db +Eb "
    "-Db -Fb -Db -Eb -Db +Db -Db -Db -Db +Db +Db +Fb +Db -Eb "
    "+Ac -Ac +Bc +Cc +Bc +Cc +Ac -Fb -Fb +Fb +Eb -Db +Eb +Db "
    "-Eb +Db +Fb +Db +Db -Db -Db +Db -Db +Db +Eb +Db +Fb +Db "
    "+Fb -Fb -Eb +Db -Eb -Db +Fb +Ac +Ac -Ac +Bc +Cc +Bc +Cc "
    "+Db +Fb +Db +Db -Db -Db -Eb -Db +Db +Eb +Db +Fb +Db +Db "
    "-Fb -Eb +Db -Eb -Db +Fb +Fb +Cc +Ac +Ac -Ac +Bc +Cc +Bc "
    "+Fb +Db +Db -Db -Db -Eb +Db +Db +Eb +Db +Fb +Db +Db -Db "
    "-Eb +Db -Eb -Db +Fb +Fb -Fb +Bc +Cc +Ac +Ac -Ac +Bc +Cc "
    "+Db +Db -Db -Db -Eb +Db +Fb +Eb +Db +Fb +Db +Db -Db +Db "
    "+Db -Eb -Db +Fb +Fb -Fb -Eb +Cc +Bc +Cc +Ac +Ac -Ac +Bc "
    "+Db -Db -Db -Eb +Db +Fb +Db +Db +Fb +Db +Db -Db +Db +Eb "
    "-Eb -Db +Fb +Fb -Fb -Eb +Db +Bc +Cc +Bc +Cc +Ac +Ac -Ac "
    "-Db -Db -Eb +Db +Fb +Db +Db +Fb +Db +Db -Db +Db +Eb +Db "
    "-Db +Fb +Fb -Fb -Eb +Db -Eb -Ac +Bc +Cc +Bc +Cc +Ac +Ac "
    "-Db -Eb +Db +Fb +Db +Db -Db +Db +Db -Db +Db +Eb +Db +Fb "
    "+Fb +Fb -Fb -Eb +Db -Eb -Db +Ac -Ac +Bc +Cc +Bc +Cc +Ac ";

// One design per entry, its generators on the lines below.
// clang-format off
inline constexpr block_circulant_design block_circulant_designs[] = {
    {92, 4, 23, williamson_layout,
     "117e88 1ca538 498192 3ba5dc "},
    {116, 4, 29, williamson_layout,
     "368845b0 09703a40 5cd02ce8 1cd7ace0 "},
    {156, 4, 39, williamson_layout,
     "1afb3cdf58 0ecf5af370 1975bdae98 72be247d4e "},
    {172, 4, 43, williamson_layout,
     "730a26450ce 207ac935e04 14d42f42b28 385b3fcda1c "},
    {188, 4, 47, goethals_seidel_layout,
     "5ede70ebc0dc 7607aee3090a 6d1f77348adc 6d1f77cb7522 ed44b0441d24 ed44b3bbe2d8 "
     "bdbce2287e44 "},
    {236, 4, 59, goethals_seidel_layout,
     "042cc2e85d3b086 974ec212e866842 c21b974517997be 68b13deae866842 f7a67a2a10dcba4 "
     "f7a67a28ba7610e f7a67a2def23458 "},
    {260, 4, 65, goethals_seidel_layout,
     "0ac66ca0051cb62f8 fa369c507d64ce578 fa369c50fd64ce578 05c963af7d64ce578 "
     "ea7326bef5c693a08 158cd940f5c693a00 ea7326be0a396c5f8 "},
    {268, 4, 67, goethals_seidel_layout,
     "2637871a520070dcc 45f004ab2e523aa6c 6761c00934e3c2736 ba0ffb54ae523aa6c "
     "d957129d4ab7fc174 4c6f0e34dbff1e464 d957129d354803e88 "},
    {292, 4, 73, goethals_seidel_layout,
     "48a660f1f15f8110710 6896d462056d2998238 470440fd48387ccd768 97692b9df56d2998238 "
     "c41994b6afb9d496e98 914cc1e3ed40fddf1d0 c41994b6a0462b69168 "},
    {356, 4, 89, goethals_seidel_layout,
     "746502b24d6009c68f87288 b0296e39c80359395face88 8a70f8b237fca6d95face88 "
     "4fd691c5c80359395face88 1735fa9c9ac013a3896bf28 e8ca05649ac013b2e0f1ae0 "
     "1735fa9c9ac0139c76940d8 "},
    {372, 12, 31, array12_layout,
     "34324c2c 4bcdb3d2 0eebd770 "},
    {404, 4, 101, goethals_seidel_layout,
     "657095203d20c37263c6468af8 ce705b2ab2761825ffdab78ac8 "
     "fa8b131e0d89e7da1fdab78ac8 318fa4d572761825ffdab78ac8 "
     "351ed5bffa4186e4eab25f18c8 cae12a407a4186e4f87372ea00 "
     "351ed5bffa4186e4d54da0e738 "},
    {412, 4, 103, goethals_seidel_layout,
     "1d9fa5aadd710f7144aa5a0646 0b2f194293702a73297d77cf88 "
     "c6fc92f00d4f3fdb1c2d74dd1c e3bbae907f66ddb9d90c7cb43c "
     "f0b4f8c26e76ed9bf825d7771c 1d13452f1c900c353fc2db0272 "
     "47cfbafa5339503b250a63d340 "},
    {428, 4, 107, goethals_seidel_layout,
     "41611316e17cd1a8843caf8487a 9c219b582422b167d112e6ef2fa "
     "bc243ea78bdd4e982f12e6ef2fa 63de64a7d422b167d112e6ef2fa "
     "82c2262ddd065caef506b6610e4 7d3dd9d23d065caef4795f090f6 "
     "82c2262ddd065caef6f9499ef18 "},
    {452, 4, 113, goethals_seidel_layout,
     "4036d44e180298f0ecc524772bca8 ba4e947a899b878ca013c6ea49fe8 "
     "a9ea7712526478735ff3c6ea49fe8 45b16b85759b878ca013c6ea49fe8 "
     "7f925763c80531e1d9aea1d68da28 806da89c300531e1d9b5b711a86a0 "
     "7f925763c80531e1d9915e29725d8 "},
    {476, 4, 119, goethals_seidel_layout,
     "5a4e33022e167a234094182abccbf2 a7bc130fd2520588bcd1177e671b4a "
     "9fa67aa830adfa77432f177e671b4a 5843ecf02d520588bcd1177e671b4a "
     "4b6399fba22cf446812ad03cdf086a b49c66045c2cf446812bcfaa866818 "
     "4b6399fba22cf44681292fc320f796 "},
    {508, 4, 127, goethals_seidel_layout,
     "68d5f663be69680e8fe96982399054e8 f797e3bd560565d3b3bc2093bc93d32c "
     "ffd5f191d52b4b2bf1910e6f906f0e6c d9cbf0edf72a7c59579daec435f09940 "
     "0a643eb08dd6e7aa68f953bedc3f4e6c 263c27d8263dd9c0acb4ad51d9c15002 "
     "d32f24f72410f7372e9a81aaf71fa7bc "},
    {532, 28, 19, array28_layout_532,
     "3204c 4dfb2 1d6b8 c528e 64098 9bf64 "},
    {604, 4, 151, goethals_seidel_layout,
     "4cb0750bdd8505348e698ed35f5e442f51f2cc 40a19eaec47ce856e524a1c8d8789ee1031028 "
     "df016699cd75d12558b2de766286d69b3a07fc a59c317868f37abfafcee00d6f6560eea07c90 "
     "24f815dc1a9bdac01dcfd7f57b3c587a30e694 007e8c9a527ae64612cb956dd145319a65fc12 "
     "5023021de4786c4e14929da85cf88dd5e61408 "},
    {612, 12, 51, array12_layout,
     "7128c1983148e 0ed73e67ceb70 485d7c93eba12 "},
    {652, 4, 163, goethals_seidel_layout,
     "6dc7c0996794d5a01588cee57fa54d61966fc1c48 "
     "881a43270f516a627126998abdaf006becb3a0c04 "
     "e362c35527882e6650f79d3fd3c759282c7f880a4 "
     "4bc9f17bf889350f757355a3fe59bad731ec968c0 "
     "0c5a4de33ad7669ff16ab3abbc2b2447f7a3e4f48 "
     "6bfb8072fad9470d00d1843d6662fb86d54f2e4e2 "
     "80c1734df5803d6f546659239195a2bc393096044 "},
};
// clang-format on

}  // namespace detail
}  // namespace rotq
