#include "plumetrace/core/csv.hpp"

#include <fast_float/fast_float.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plumetrace/core/error.hpp"

namespace plumetrace {

void CsvReader::set_range(char* data, std::size_t size) noexcept {
  begin_ = data;
  end_ = data + size;
  if (size >= 3 && static_cast<unsigned char>(data[0]) == 0xEF &&
      static_cast<unsigned char>(data[1]) == 0xBB && static_cast<unsigned char>(data[2]) == 0xBF)
    begin_ += 3;
  pos_ = begin_;
  line_ = 1;
}

CsvReader::CsvReader(std::string text) : buf_(std::move(text)) { set_range(buf_.data(), buf_.size()); }

CsvReader::CsvReader(char* mapped, std::size_t size) : map_(mapped), map_size_(size) {
  set_range(mapped, size);
}

CsvReader::CsvReader(CsvReader&& o) noexcept { *this = std::move(o); }

CsvReader& CsvReader::operator=(CsvReader&& o) noexcept {
  if (this == &o) return *this;
  if (map_ != nullptr) munmap(map_, map_size_);
  const std::size_t begin_off = static_cast<std::size_t>(o.begin_ - (o.map_ ? o.map_ : o.buf_.data()));
  const std::size_t pos_off = static_cast<std::size_t>(o.pos_ - o.begin_);
  const std::size_t size = static_cast<std::size_t>(o.end_ - o.begin_);
  map_ = std::exchange(o.map_, nullptr);
  map_size_ = std::exchange(o.map_size_, 0);
  buf_ = std::move(o.buf_);
  char* base = map_ != nullptr ? map_ : buf_.data();
  begin_ = base + begin_off;
  end_ = begin_ + size;
  pos_ = begin_ + pos_off;
  line_ = o.line_;
  o.buf_.clear();
  o.begin_ = o.pos_ = o.end_ = o.buf_.data();
  return *this;
}

CsvReader::~CsvReader() {
  if (map_ != nullptr) munmap(map_, map_size_);
}

CsvReader CsvReader::from_string(std::string text) { return CsvReader(std::move(text)); }

CsvReader CsvReader::open(const std::filesystem::path& file) {
  {
    // Fast path: a private, pre-faulted mapping of a regular file.
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InvalidInput("cannot read " + file.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void* m = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_POPULATE, fd, 0);
      ::close(fd);
      if (m != MAP_FAILED) {
        ::madvise(m, static_cast<std::size_t>(st.st_size), MADV_SEQUENTIAL);
        return CsvReader(static_cast<char*>(m), static_cast<std::size_t>(st.st_size));
      }
    } else {
      ::close(fd);
    }
  }
  struct Closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(file.c_str(), "rb"));
  if (!f) throw InvalidInput("cannot read " + file.string() + ": " + std::strerror(errno));
  std::string text;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec) text.reserve(static_cast<std::size_t>(size));
  char chunk[1 << 16];
  std::size_t n = 0;
  if (!ec && size > 0) {
    text.resize(static_cast<std::size_t>(size));
    n = std::fread(text.data(), 1, text.size(), f.get());
    text.resize(n);
  }
  while ((n = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) text.append(chunk, n);
  if (std::ferror(f.get())) throw InvalidInput("cannot read " + file.string() + ": I/O error");
  return CsvReader(std::move(text));
}

bool CsvReader::next(CsvRecord& rec) {
  rec.fields.clear();
  rec.invalid_utf8_field = -1;
  rec.unterminated_quote = false;
  while (pos_ < end_) {
    rec.line = line_;
    char* p = pos_;
    bool any_quoted = false;
    for (;;) {
      unsigned char high = 0;
      std::string_view field;
      if (p < end_ && *p == '"') {
        any_quoted = true;
        ++p;
        char* const start = p;
        char* w = p;
        for (;;) {
          if (p >= end_) {
            rec.unterminated_quote = true;
            break;
          }
          const char c = *p;
          if (c == '"') {
            if (p + 1 < end_ && p[1] == '"') {
              *w++ = '"';
              p += 2;
              continue;
            }
            ++p;  // closing quote; keep any stray text up to the delimiter (lenient)
            while (p < end_ && *p != ',' && *p != '\n' && *p != '\r') {
              high |= static_cast<unsigned char>(*p);
              *w++ = *p++;
            }
            break;
          }
          if (c == '\n') ++line_;
          high |= static_cast<unsigned char>(c);
          *w++ = c;
          ++p;
        }
        field = std::string_view(start, static_cast<std::size_t>(w - start));
      } else {
        char* const start = p;
        while (p < end_) {
          const char c = *p;
          if (c == ',' || c == '\n' || c == '\r') break;
          high |= static_cast<unsigned char>(c);
          ++p;
        }
        field = std::string_view(start, static_cast<std::size_t>(p - start));
      }
      if ((high & 0x80) != 0 && rec.invalid_utf8_field < 0 && !is_valid_utf8(field))
        rec.invalid_utf8_field = static_cast<int>(rec.fields.size());
      rec.fields.push_back(field);
      if (p >= end_) break;
      if (*p == ',') {
        ++p;
        continue;
      }
      if (*p == '\r') {
        ++p;
        if (p < end_ && *p == '\n') ++p;
      } else {
        ++p;
      }
      ++line_;
      break;
    }
    pos_ = p;
    if (rec.fields.size() == 1 && rec.fields[0].empty() && !any_quoted) {
      rec.fields.clear();  // blank line
      continue;
    }
    return true;
  }
  return false;
}

bool is_valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const e = p + s.size();
  while (p < e) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (e - p <= n) return false;
    for (int k = 1; k <= n; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

std::string_view trim_view(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_finite_double(std::string_view s, double& out) noexcept {
  s = trim_view(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  double v = 0.0;
  const auto r = fast_float::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

double round_to(double v, int digits) {
  if (!std::isfinite(v) || v == 0) return v;
  const double mag = std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(std::abs(v)))));
  return std::round(v * mag) / mag;
}

std::string ascii_lower(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return r;
}

CsvHeader::CsvHeader(const CsvRecord& header) {
  names_.reserve(header.size());
  for (const auto f : header.fields) names_.push_back(ascii_lower(trim_view(f)));
}

int CsvHeader::index(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int>(i);
  return -1;
}

std::string csv_quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace plumetrace
