#include "plumetrace/render/colormap.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <string>

#include "colormap_tables.hpp"
#include "plumetrace/core/error.hpp"

namespace plumetrace {

const ColormapTable& colormap_by_name(std::string_view name) {
  for (const auto& t : colormap_data::kTables)
    if (name == t.name) return t.rgba;
  std::string allowed;
  for (const auto& n : colormap_names()) allowed += (allowed.empty() ? "" : ", ") + n;
  throw InvalidInput("unknown colormap '" + std::string(name) + "' (allowed: " + allowed + ")");
}

std::vector<std::string> colormap_names() {
  std::vector<std::string> names;
  for (const auto& t : colormap_data::kTables) names.emplace_back(t.name);
  return names;
}

Rescale::Rescale(double lo, double hi) noexcept
    : lo_(lo), hi_(hi), lo_f_(static_cast<float>(lo)), scale_f_(static_cast<float>(255.0 / (hi - lo))) {
  assert(std::isfinite(lo) && std::isfinite(hi) && lo < hi);
}

namespace {

/// One number of a rescale text; InvalidInput when it is not a finite number.
double parse_number(std::string_view s, std::string_view whole) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v))
    throw InvalidInput("rescale '" + std::string(whole) + "': '" + std::string(s) + "' is not a finite number");
  return v;
}

}  // namespace

Rescale parse_rescale(std::string_view text) {
  const auto comma = text.find(',');
  if (comma == std::string_view::npos)
    throw InvalidInput("rescale '" + std::string(text) + "' needs two numbers LO,HI");
  const double lo = parse_number(text.substr(0, comma), text);
  const double hi = parse_number(text.substr(comma + 1), text);
  if (!(lo < hi)) throw InvalidInput("rescale '" + std::string(text) + "' needs LO < HI");
  return Rescale(lo, hi);
}

}  // namespace plumetrace
