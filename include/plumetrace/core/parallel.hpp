#pragma once
/// @file parallel.hpp
/// A minimal bounded worker pool for the kernels (never used on network threads).

#include <cstddef>
#include <functional>

namespace plumetrace {

/// Number of worker threads for `requested` (0 = all hardware threads, at least 1).
int worker_threads(int requested) noexcept;

/// Run body(i) for every i in [0, n) on at most `threads` threads with dynamic scheduling; the
/// calling thread waits. body must be safe to call concurrently for different i.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& body);

}  // namespace plumetrace
