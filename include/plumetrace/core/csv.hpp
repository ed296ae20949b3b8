#pragma once
/// @file csv.hpp
/// A fast RFC 4180 CSV reader over one in-memory buffer (the whole file read at once).
///
/// Handles quoted fields (commas, doubled quotes `""`, line breaks inside quotes), LF and CRLF
/// line ends, a UTF-8 byte-order mark, and a last line without a line end. Fields are string views
/// into the reader's own buffer (quoted fields are unescaped in place), valid until the next call
/// to next(). Each record reports the 1-based physical line it starts on and whether any field
/// holds invalid UTF-8. Blank lines are skipped. Numbers are parsed with fast_float.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace plumetrace {

/// One CSV record (row) as returned by CsvReader::next.
struct CsvRecord {
  std::vector<std::string_view> fields;  ///< unescaped field texts (views into the reader buffer)
  std::size_t line{};                    ///< 1-based physical line where the record starts
  int invalid_utf8_field{-1};            ///< index of the first field with invalid UTF-8, or -1
  bool unterminated_quote{};             ///< the file ended inside a quoted field

  [[nodiscard]] std::size_t size() const noexcept { return fields.size(); }
  [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept { return fields[i]; }
};

/// Streaming reader over a CSV text held in memory.
class CsvReader {
 public:
  /// Map the whole file into memory (private copy-on-write mapping; quoted fields are unescaped
  /// in place without touching the file). Throws InvalidInput ("cannot read FILE: reason") when
  /// it cannot be opened or read.
  [[nodiscard]] static CsvReader open(const std::filesystem::path& file);

  /// Read CSV text given in memory (an HTTP body, a test string).
  [[nodiscard]] static CsvReader from_string(std::string text);

  /// Read the next non-blank record into `rec`. Returns false at the end of the data.
  bool next(CsvRecord& rec);

  /// True when the data has no byte at all (after the BOM).
  [[nodiscard]] bool empty() const noexcept { return end_ == begin_; }

  /// Bytes of CSV text (after the BOM).
  [[nodiscard]] std::size_t size_bytes() const noexcept { return static_cast<std::size_t>(end_ - begin_); }

  CsvReader(CsvReader&& other) noexcept;
  CsvReader& operator=(CsvReader&& other) noexcept;
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  ~CsvReader();

 private:
  explicit CsvReader(std::string text);
  CsvReader(char* mapped, std::size_t size);
  void set_range(char* data, std::size_t size) noexcept;
  std::string buf_;
  char* map_{};            ///< mmap'ed file, or null when the text lives in buf_
  std::size_t map_size_{};
  char* begin_{};
  char* pos_{};
  char* end_{};
  std::size_t line_{1};
};

/// True when `s` is valid UTF-8 (no overlong forms, no surrogates, no code point above U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

/// Strip leading and trailing spaces and tabs.
[[nodiscard]] std::string_view trim_view(std::string_view s) noexcept;

/// Parse a whole field (surrounding spaces allowed, a leading '+' allowed) as a finite double.
/// NaN and infinity texts ("nan", "inf", "Infinity"), empty fields and trailing garbage are
/// refused (false, `out` untouched).
bool parse_finite_double(std::string_view s, double& out) noexcept;

/// ASCII lower-case copy.
[[nodiscard]] std::string ascii_lower(std::string_view s);

/// `v` rounded to `digits` significant figures (for documents people read); 0, NaN and
/// infinities unchanged.
[[nodiscard]] double round_to(double v, int digits);

/// `v` as one quoted CSV field (RFC 4180): in double quotes, each quote inside doubled.
[[nodiscard]] std::string csv_quoted(std::string_view v);

/// Header lookup: column names trimmed and compared case-insensitively.
class CsvHeader {
 public:
  CsvHeader() = default;
  explicit CsvHeader(const CsvRecord& header);

  /// Index of a column, or -1 when absent.
  [[nodiscard]] int index(std::string_view name) const noexcept;
  /// Column names as given (trimmed; lower-cased).
  [[nodiscard]] const std::vector<std::string>& names() const noexcept { return names_; }
  [[nodiscard]] std::size_t size() const noexcept { return names_.size(); }

 private:
  std::vector<std::string> names_;
};

}  // namespace plumetrace
