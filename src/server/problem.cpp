#include "plumetrace/server/problem.hpp"

namespace plumetrace::server {

int http_status_for(const std::exception& e) noexcept {
  if (dynamic_cast<const PayloadTooLarge*>(&e) != nullptr) return 413;
  if (dynamic_cast<const HeadersTooLarge*>(&e) != nullptr) return 431;
  if (dynamic_cast<const MethodNotAllowed*>(&e) != nullptr) return 405;
  if (dynamic_cast<const UnusableData*>(&e) != nullptr) return 422;
  if (dynamic_cast<const InvalidInput*>(&e) != nullptr) return 400;
  if (dynamic_cast<const NotFound*>(&e) != nullptr) return 404;
  if (dynamic_cast<const Unavailable*>(&e) != nullptr) return 503;
  return 500;
}

std::string_view status_title(int status) noexcept {
  switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

nlohmann::json problem_document(int status, std::string_view detail) {
  nlohmann::json doc = {{"type", "about:blank"}, {"title", status_title(status)}, {"status", status}};
  if (!detail.empty()) doc["detail"] = detail;
  return doc;
}

std::string scrub_paths(std::string text, const std::string& root) {
  if (root.empty()) return text;
  std::size_t pos = 0;
  while ((pos = text.find(root, pos)) != std::string::npos) {
    std::size_t end = pos + root.size();
    while (end < text.size() && text[end] != ' ' && text[end] != '\'' && text[end] != '"' && text[end] != ':' &&
           text[end] != ',')
      ++end;
    std::string_view path(text.data() + pos, end - pos);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    const auto slash = path.find_last_of('/');
    const std::string last(slash == std::string_view::npos ? path : path.substr(slash + 1));
    text.replace(pos, end - pos, last);
    pos += last.size();
  }
  return text;
}

}  // namespace plumetrace::server
