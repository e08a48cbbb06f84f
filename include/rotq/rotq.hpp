#pragma once
// The whole rotq host library (no CUDA): #include <rotq/rotq.hpp>.

#include "rotq/config.hpp"
#include "rotq/error.hpp"
#include "rotq/channel_scaling.hpp"
#include "rotq/hadamard.hpp"
#include "rotq/hadamard_transform.hpp"
#include "rotq/isa.hpp"
#include "rotq/permutation.hpp"
#include "rotq/pipeline.hpp"
#include "rotq/rotation.hpp"
#include "rotq/transform.hpp"
#include "rotq/view.hpp"
