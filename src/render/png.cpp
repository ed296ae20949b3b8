#include "plumetrace/render/png.hpp"

#include <png.h>

#include <cassert>
#include <csetjmp>
#include <cstring>

#include "plumetrace/core/error.hpp"

namespace plumetrace {

namespace {

void append_to_string(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void no_flush(png_structp) {}

/// Reading position in an in-memory PNG.
struct ReadCursor {
  const std::string* data;
  std::size_t offset;
};

void read_from_string(png_structp png, png_bytep out, png_size_t length) {
  auto* cur = static_cast<ReadCursor*>(png_get_io_ptr(png));
  if (cur->offset + length > cur->data->size()) png_error(png, "truncated PNG");
  std::memcpy(out, cur->data->data() + cur->offset, length);
  cur->offset += length;
}

/// Largest side decode_png_rgba accepts (pixels): a bound on memory for an untrusted PNG.
constexpr png_uint_32 kMaxDecodeSidePx = 16384;

/// libpng reports errors by longjmp to the caller's setjmp, which throws; nothing goes to stderr.
/// (Every C++ object in a function that calls setjmp is constructed before it, so that the jump
/// skips no destructor.)
[[noreturn]] void quiet_error(png_structp png, png_const_charp) { png_longjmp(png, 1); }
void quiet_warning(png_structp, png_const_charp) {}

}  // namespace

std::string encode_png_rgba(const std::vector<std::uint8_t>& rgba, int width, int height, int zlib_level) {
  assert(width > 0 && height > 0 && zlib_level >= 0 && zlib_level <= 9);
  assert(rgba.size() == static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 4);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, quiet_error, quiet_warning);
  if (png == nullptr) throw Internal("libpng: cannot create a write struct");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    throw Internal("libpng: cannot create an info struct");
  }
  std::string out;
  out.reserve(rgba.size() / 4);
  std::vector<png_const_bytep> rows(static_cast<std::size_t>(height));
  for (int r = 0; r < height; ++r) rows[static_cast<std::size_t>(r)] = rgba.data() + static_cast<std::size_t>(r) * width * 4;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Internal("libpng failed to encode a tile");
  }
  png_set_write_fn(png, &out, append_to_string, no_flush);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, zlib_level);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_write_info(png, info);
  png_write_image(png, const_cast<png_bytepp>(rows.data()));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

RgbaImage decode_png_rgba(const std::string& data) {
  if (data.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(data.data()), 0, 8) != 0)
    throw InvalidInput("not a PNG (bad signature)");
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, quiet_error, quiet_warning);
  if (png == nullptr) throw Internal("libpng: cannot create a read struct");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw Internal("libpng: cannot create an info struct");
  }
  RgbaImage img;
  ReadCursor cursor{&data, 0};
  std::vector<png_bytep> rows;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw InvalidInput("unreadable PNG");
  }
  png_set_read_fn(png, &cursor, read_from_string);
  png_set_user_limits(png, kMaxDecodeSidePx, kMaxDecodeSidePx);
  png_read_info(png, info);
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_gray_to_rgb(png);
  png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
  png_read_update_info(png, info);
  img.width = static_cast<int>(png_get_image_width(png, info));
  img.height = static_cast<int>(png_get_image_height(png, info));
  img.rgba.resize(static_cast<std::size_t>(img.width) * img.height * 4);
  rows.resize(static_cast<std::size_t>(img.height));
  for (int r = 0; r < img.height; ++r) rows[static_cast<std::size_t>(r)] = img.rgba.data() + static_cast<std::size_t>(r) * img.width * 4;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return img;
}

}  // namespace plumetrace
