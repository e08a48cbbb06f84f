#pragma once
// The whole rotq host library (no CUDA): #include <rotq/rotq.hpp>.

#include "rotq/config.hpp"
#include "rotq/error.hpp"
#include "rotq/hadamard.hpp"
#include "rotq/isa.hpp"
#include "rotq/view.hpp"
