/// A fast reader for the common case of a boundary file: a plain RFC 7946 GeoJSON
/// FeatureCollection of Polygon/MultiPolygon features with string code and name properties.
///
/// Why: GDAL's GeoJSON driver reads a file in two passes and builds a json-c tree; on the
/// 10 MB Zhejiang county layer that is ~0.4 s, a fifth of a whole trace. This single pass over the
/// bytes takes ~30 ms. It answers only when the file is exactly that common case; anything else
/// (a "crs" member, a null or non-polygon geometry, a missing, non-string, empty or invalid UTF-8
/// code or name, nested depths that do not match the type, any syntax error) makes it return
/// nullopt and the caller reads the file with GDAL, which also words the rejections. On files it
/// accepts, the result equals GDAL's feature for feature and coordinate for coordinate
/// (tests/ingest/gdal_readers_test.cpp compares both on the bundled Zhejiang layer).

#include <fast_float/fast_float.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "ingest_util.hpp"

namespace plumetrace::ingest_detail {

namespace {

using Ring = std::vector<std::pair<double, double>>;
using Polygon = std::vector<Ring>;

/// Recursive-descent reader over the bytes; every method returns false on anything unexpected.
class Reader {
 public:
  explicit Reader(std::string_view text) : p_(text.data()), e_(text.data() + text.size()) {}

  void ws() noexcept {
    while (p_ < e_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool eat(char c) noexcept {
    ws();
    if (p_ < e_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool peek(char c) noexcept {
    ws();
    return p_ < e_ && *p_ == c;
  }
  bool at_end() noexcept {
    ws();
    return p_ == e_;
  }

  /// A JSON string, escapes decoded to UTF-8.
  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    while (p_ < e_) {
      const char c = *p_++;
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (p_ >= e_) return false;
      const char esc = *p_++;
      switch (esc) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
            std::uint32_t lo = 0;
            if (e_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          utf8(cp, out);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  bool number(double& v) noexcept {
    ws();
    const char* s = p_;
    if (p_ < e_ && *p_ == '-') ++p_;
    while (p_ < e_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' ||
                       *p_ == '+' || *p_ == '-'))
      ++p_;
    if (p_ == s) return false;
    const auto r = fast_float::from_chars(s, p_, v);
    return r.ec == std::errc() && r.ptr == p_;
  }

  /// Any JSON value, skipped.
  bool skip() {
    ws();
    if (p_ >= e_) return false;
    std::string tmp;
    double d = 0;
    switch (*p_) {
      case '"': return string(tmp);
      case '{': {
        ++p_;
        if (eat('}')) return true;
        do {
          if (!string(tmp) || !eat(':') || !skip()) return false;
        } while (eat(','));
        return eat('}');
      }
      case '[': {
        ++p_;
        if (eat(']')) return true;
        do {
          if (!skip()) return false;
        } while (eat(','));
        return eat(']');
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number(d);
    }
  }

  bool literal(std::string_view word) noexcept {
    ws();
    if (static_cast<std::size_t>(e_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
      return false;
    p_ += word.size();
    return true;
  }

  /// Array nesting depth at the cursor: the number of '[' before the first number.
  int depth_ahead() const noexcept {
    int d = 0;
    for (const char* q = p_; q < e_; ++q) {
      if (*q == '[') ++d;
      else if (!(*q == ' ' || *q == '\n' || *q == '\r' || *q == '\t')) break;
    }
    return d;
  }

  /// A position [x, y] or [x, y, z, ...] (only x and y kept).
  bool position(std::pair<double, double>& xy) {
    if (!eat('[') || !number(xy.first) || !eat(',') || !number(xy.second)) return false;
    while (eat(',')) {
      double extra = 0;
      if (!number(extra)) return false;
    }
    return eat(']');
  }

  bool ring(Ring& r) {
    if (!eat('[') || peek(']')) return false;  // empty rings: let GDAL judge
    do {
      std::pair<double, double> xy;
      if (!position(xy)) return false;
      r.push_back(xy);
    } while (eat(','));
    return eat(']');
  }

  bool polygon(Polygon& poly) {
    if (!eat('[') || peek(']')) return false;
    do {
      Ring r;
      if (!ring(r)) return false;
      poly.push_back(std::move(r));
    } while (eat(','));
    return eat(']');
  }

 private:
  bool hex4(std::uint32_t& cp) noexcept {
    if (e_ - p_ < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') cp |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') cp |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  static void utf8(std::uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  const char* p_;
  const char* e_;
};

/// {"type": ..., "coordinates": ...} of a Polygon or MultiPolygon.
bool geometry(Reader& rd, std::vector<Polygon>& polys) {
  if (!rd.eat('{')) return false;  // null geometries: GDAL's words
  std::string key, type;
  int depth = 0;
  bool have_coords = false;
  if (rd.eat('}')) return false;
  do {
    if (!rd.string(key) || !rd.eat(':')) return false;
    if (key == "type") {
      if (!rd.string(type)) return false;
    } else if (key == "coordinates") {
      if (have_coords) return false;
      have_coords = true;
      rd.ws();
      depth = rd.depth_ahead();
      if (depth == 3) {
        Polygon poly;
        if (!rd.polygon(poly)) return false;
        polys.push_back(std::move(poly));
      } else if (depth == 4) {
        if (!rd.eat('[') || rd.peek(']')) return false;
        do {
          Polygon poly;
          if (!rd.polygon(poly)) return false;
          polys.push_back(std::move(poly));
        } while (rd.eat(','));
        if (!rd.eat(']')) return false;
      } else {
        return false;
      }
    } else {
      if (!rd.skip()) return false;
    }
  } while (rd.eat(','));
  if (!rd.eat('}') || !have_coords) return false;
  return (type == "Polygon" && depth == 3) || (type == "MultiPolygon" && depth == 4);
}

/// One Feature; false when it is not the plain case.
bool feature(Reader& rd, const std::string& code_field, const std::string& name_field,
             BoundaryFeature& out) {
  if (!rd.eat('{')) return false;
  std::string key, type;
  bool have_code = false, have_name = false, have_geometry = false;
  if (rd.eat('}')) return false;
  do {
    if (!rd.string(key) || !rd.eat(':')) return false;
    if (key == "type") {
      if (!rd.string(type)) return false;
    } else if (key == "properties") {
      if (!rd.eat('{')) return false;
      if (!rd.eat('}')) {
        std::string pk, value;
        do {
          if (!rd.string(pk) || !rd.eat(':')) return false;
          if (pk == code_field || pk == name_field) {
            if (!rd.string(value)) return false;  // numbers, nulls: GDAL's formatting
            if (pk == code_field) {
              if (have_code) return false;
              out.code = std::string(trim_view(value));
              have_code = true;
            } else {
              if (have_name) return false;
              out.name = value;
              have_name = true;
            }
          } else if (!rd.skip()) {
            return false;
          }
        } while (rd.eat(','));
        if (!rd.eat('}')) return false;
      }
    } else if (key == "geometry") {
      if (have_geometry || !geometry(rd, out.polygons)) return false;
      have_geometry = true;
    } else {
      if (!rd.skip()) return false;
    }
  } while (rd.eat(','));
  if (!rd.eat('}')) return false;
  return type == "Feature" && have_code && have_name && have_geometry && !out.code.empty() &&
         is_valid_utf8(out.code) && is_valid_utf8(out.name);
}

}  // namespace

std::optional<BoundaryLayer> read_plain_geojson_boundaries(const std::filesystem::path& path,
                                                           const std::string& code_field,
                                                           const std::string& name_field) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string_view body(text);
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // BOM
  Reader r(body);
  // GDAL's default code field is adcode (else code, which is left to GDAL); the name field name.
  const std::string code = code_field.empty() ? "adcode" : code_field;
  const std::string name = name_field.empty() ? "name" : name_field;
  BoundaryLayer layer;
  layer.file = path.string();
  std::string key, type;
  bool have_features = false;
  bool ok = r.eat('{') && !r.eat('}');
  while (ok) {
    ok = r.string(key) && r.eat(':');
    if (!ok) break;
    if (key == "type") {
      ok = r.string(type);
    } else if (key == "features") {
      ok = !have_features && r.eat('[');
      have_features = true;
      if (ok && !r.eat(']')) {
        do {
          BoundaryFeature f;
          ok = feature(r, code, name, f);
          if (ok) layer.features.push_back(std::move(f));
        } while (ok && r.eat(','));
        ok = ok && r.eat(']');
      }
    } else if (key == "crs") {
      ok = false;  // a named CRS: GDAL transforms it
    } else {
      ok = r.skip();
    }
    if (!ok || !r.eat(',')) break;
  }
  ok = ok && r.eat('}') && r.at_end() && type == "FeatureCollection" && have_features &&
       !layer.features.empty();
  if (ok) return layer;
  return std::nullopt;
}

}  // namespace plumetrace::ingest_detail
