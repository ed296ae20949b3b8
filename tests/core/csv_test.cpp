#include "plumetrace/core/csv.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "../support/temp_dir.hpp"
#include "plumetrace/core/error.hpp"

namespace plumetrace {
namespace {

std::vector<std::vector<std::string>> all(CsvReader& r, std::vector<std::size_t>* lines = nullptr) {
  std::vector<std::vector<std::string>> out;
  CsvRecord rec;
  while (r.next(rec)) {
    out.emplace_back(rec.fields.begin(), rec.fields.end());
    if (lines != nullptr) lines->push_back(rec.line);
  }
  return out;
}

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, PlainAndTruncatedLastLine) {
  auto r = CsvReader::from_string("a,b,c\n1,2,3\n4,5");
  std::vector<std::size_t> lines;
  EXPECT_EQ(all(r, &lines), (Rows{{"a", "b", "c"}, {"1", "2", "3"}, {"4", "5"}}));
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 3}));
}

TEST(Csv, BomCrlfAndBlankLines) {
  auto r = CsvReader::from_string("\xEF\xBB\xBFid,x\r\n\r\nA,1\r\nB,\r\n\n");
  std::vector<std::size_t> lines;
  EXPECT_EQ(all(r, &lines), (Rows{{"id", "x"}, {"A", "1"}, {"B", ""}}));
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 3, 4}));
}

TEST(Csv, QuotedFields) {
  auto r = CsvReader::from_string(
      "name,note\n\"Works, Ltd\",\"said \"\"hi\"\"\"\n\"two\nlines\",x\r\nlast,\"\"\n\"\",\"q\"");
  std::vector<std::size_t> lines;
  EXPECT_EQ(all(r, &lines), (Rows{{"name", "note"}, {"Works, Ltd", "said \"hi\""}, {"two\nlines", "x"},
                                  {"last", ""}, {"", "q"}}));
  EXPECT_EQ(lines, (std::vector<std::size_t>{1, 2, 3, 5, 6}));
}

TEST(Csv, UnterminatedQuoteAndInvalidUtf8) {
  auto r = CsvReader::from_string("a,b\nok,\xE7\xBC\x99\xE4\xBA\x91\nbad,\xFF\xFE\n\"open,x\n");
  CsvRecord rec;
  ASSERT_TRUE(r.next(rec));
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.invalid_utf8_field, -1);
  EXPECT_EQ(rec[1], "缙云");
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.invalid_utf8_field, 1);
  EXPECT_EQ(rec.line, 3U);
  ASSERT_TRUE(r.next(rec));
  EXPECT_TRUE(rec.unterminated_quote);
  EXPECT_EQ(rec.line, 4U);
  EXPECT_FALSE(r.next(rec));
}

TEST(Csv, EmptyInput) {
  auto r = CsvReader::from_string("");
  EXPECT_TRUE(r.empty());
  CsvRecord rec;
  EXPECT_FALSE(r.next(rec));
  auto bom_only = CsvReader::from_string("\xEF\xBB\xBF");
  EXPECT_TRUE(bom_only.empty());
}

TEST(Csv, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("永康市 €"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));           // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));       // surrogate
  EXPECT_FALSE(is_valid_utf8("\xE4\xBA"));           // truncated
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));   // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("caf\xE9"));            // Latin-1
}

TEST(Csv, Numbers) {
  double v = -1;
  EXPECT_TRUE(parse_finite_double("12.5", v));
  EXPECT_EQ(v, 12.5);
  EXPECT_TRUE(parse_finite_double(" -3e2 ", v));
  EXPECT_EQ(v, -300.0);
  EXPECT_TRUE(parse_finite_double("+7", v));
  EXPECT_EQ(v, 7.0);
  v = 99;
  for (const char* bad : {"", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e999", "12abc", "1,5", "0x10", "--1"})
    EXPECT_FALSE(parse_finite_double(bad, v)) << bad;
  EXPECT_EQ(v, 99.0);
}

TEST(Csv, HeaderLookup) {
  auto r = CsvReader::from_string(" ID , Lon,lat\n");
  CsvRecord rec;
  ASSERT_TRUE(r.next(rec));
  const CsvHeader h(rec);
  EXPECT_EQ(h.index("id"), 0);
  EXPECT_EQ(h.index("lon"), 1);
  EXPECT_EQ(h.index("lat"), 2);
  EXPECT_EQ(h.index("height_m"), -1);
}

TEST(Csv, OpenFile) {
  const auto p = std::filesystem::temp_directory_path() / "plumetrace_csv_test.csv";
  testing_support::register_for_cleanup(p);
  {
    std::ofstream(p, std::ios::binary) << "x,y\n1,2\n";
  }
  auto r = CsvReader::open(p);
  EXPECT_EQ(all(r), (Rows{{"x", "y"}, {"1", "2"}}));
  std::filesystem::remove(p);
  EXPECT_THROW((void)CsvReader::open(p), InvalidInput);
}

}  // namespace
}  // namespace plumetrace
