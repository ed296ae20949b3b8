#include "plumetrace/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace plumetrace {

int worker_threads(int requested) noexcept {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& body) {
  const int nt = std::max(1, std::min<int>(threads, static_cast<int>(std::min<std::size_t>(n, 1u << 20))));
  if (nt <= 1) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < nt; ++t)
    pool.emplace_back([&]() {
      for (std::size_t i = next++; i < n; i = next++) body(i);
    });
  for (auto& th : pool) th.join();
}

}  // namespace plumetrace
