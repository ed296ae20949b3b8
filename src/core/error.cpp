#include "plumetrace/core/error.hpp"

namespace plumetrace {

int exit_code_for(const std::exception& e) noexcept {
  if (dynamic_cast<const InvalidInput*>(&e) != nullptr) return 2;
  if (dynamic_cast<const NotFound*>(&e) != nullptr) return 2;
  if (dynamic_cast<const Unavailable*>(&e) != nullptr) return 3;
  return 1;
}

}  // namespace plumetrace
