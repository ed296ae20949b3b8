#include "plumetrace/audit/log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "plumetrace/audit/sha256.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/core/version.hpp"

namespace plumetrace::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kHashKey = ",\"hash\":\"";
constexpr std::size_t kHashHex = 64;

std::string errno_text() { return std::strerror(errno); }

/// Closes a file descriptor (and so releases its flock) on scope exit.
struct Fd {
  int fd{-1};
  Fd() = default;
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

bool is_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

/// Split a sealed line (no newline) into its body and stored hash; false when it has no seal.
bool unseal(std::string_view line, std::string& body, std::string& hash) {
  const std::size_t tail = kHashKey.size() + kHashHex + 2;  // ,"hash":"<64>"}
  if (line.size() < tail + 2 || line.back() != '}') return false;
  const std::string_view suffix = line.substr(line.size() - tail);
  if (suffix.substr(0, kHashKey.size()) != kHashKey || suffix.substr(suffix.size() - 2) != "\"}") return false;
  const std::string_view h = suffix.substr(kHashKey.size(), kHashHex);
  if (!is_hex(h)) return false;
  body.assign(line.substr(0, line.size() - tail));
  body.push_back('}');
  hash.assign(h);
  return true;
}

std::string read_all(const fs::path& path, bool& exists) {
  std::ifstream f(path, std::ios::binary);
  exists = static_cast<bool>(f);
  if (!f) {
    std::error_code ec;
    if (fs::exists(path, ec)) throw InvalidInput("cannot read the audit log " + path.string());
    return {};
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// The log's lines: complete ones (ending in a newline) and the torn tail, if any.
struct Lines {
  std::vector<std::string_view> complete;
  std::optional<std::string_view> torn;
};

Lines split_lines(std::string_view text) {
  Lines out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      out.torn = text.substr(pos);
      break;
    }
    out.complete.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string record_name(std::uint64_t seq, std::size_t line) {
  return "record " + std::to_string(seq) + " (line " + std::to_string(line) + ")";
}

/// pread the whole range [off, off + n) (n small: the log's tail).
bool pread_all(int fd, char* buf, std::size_t n, off_t off) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, buf, n, off);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    buf += got;
    n -= static_cast<std::size_t>(got);
    off += got;
  }
  return true;
}

/// Open the log for appending (`mode` O_RDWR or O_WRONLY), creating it and its folders.
/// @throws Unavailable naming the reason.
Fd open_log(const fs::path& path, int mode) {
  const std::string where = "audit log " + path.string();
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Unavailable("cannot create the folder of the " + where + ": " + ec.message());
  }
  Fd f;
  f.fd = ::open(path.c_str(), mode | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (f.fd < 0) throw Unavailable("cannot open the " + where + ": " + errno_text());
  return f;
}

}  // namespace

fs::path default_log_path() {
  if (const char* p = std::getenv("PLUMETRACE_AUDIT_LOG"); p != nullptr && *p != '\0') return p;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x == '/') return fs::path(x) / "plumetrace" / "audit.log";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0')
    return fs::path(h) / ".local" / "share" / "plumetrace" / "audit.log";
  throw InvalidInput("no audit log path: give --audit-log or set PLUMETRACE_AUDIT_LOG");
}

fs::path resolve_log_path(const std::string& option) { return option.empty() ? default_log_path() : fs::path(option); }

std::string seal(const std::string& body) {
  std::string line = body;
  line.pop_back();  // the closing brace
  line += kHashKey;
  line += sha256_hex(body);
  line += "\"}\n";
  return line;
}

std::string json_sha256(const json& doc) { return sha256_hex(doc.dump()); }

void check_writable(const fs::path& path) { (void)open_log(path, O_WRONLY); }

Record append(const fs::path& path, const RecordDraft& draft) {
  const std::string where = "audit log " + path.string();
  Fd f = open_log(path, O_RDWR);
  while (::flock(f.fd, LOCK_EX) != 0)
    if (errno != EINTR) throw Unavailable("cannot lock the " + where + ": " + errno_text());
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) throw Unavailable("cannot stat the " + where + ": " + errno_text());
  const off_t size = st.st_size;

  // The tail: read backwards until the start of the last complete line is in the buffer.
  std::string tail;
  off_t tail_start = size;
  off_t complete_end = -1;  // just after the last newline
  std::size_t last_line_begin = 0;  // in `tail`
  bool have_last = false;
  while (tail_start > 0) {
    const off_t chunk = std::min<off_t>(tail_start, 65536);
    tail_start -= chunk;
    std::string buf(static_cast<std::size_t>(chunk), '\0');
    if (!pread_all(f.fd, buf.data(), buf.size(), tail_start)) throw Unavailable("cannot read the " + where + ": " + errno_text());
    tail = buf + tail;
    if (complete_end < 0) {
      const std::size_t nl = tail.rfind('\n');
      if (nl == std::string::npos) continue;
      complete_end = tail_start + static_cast<off_t>(nl) + 1;
    }
    const std::size_t end_in_tail = static_cast<std::size_t>(complete_end - tail_start) - 1;  // its newline
    const std::size_t prev_nl = end_in_tail == 0 ? std::string::npos : tail.rfind('\n', end_in_tail - 1);
    if (prev_nl != std::string::npos) {
      last_line_begin = prev_nl + 1;
      have_last = true;
      break;
    }
    if (tail_start == 0) {
      last_line_begin = 0;
      have_last = true;
    }
  }
  if (complete_end < 0) complete_end = 0;
  if (complete_end < size) {  // a torn tail (crash mid-append): cut it off
    if (::ftruncate(f.fd, complete_end) != 0) throw Unavailable("cannot cut the torn tail of the " + where + ": " + errno_text());
    if (::fsync(f.fd) != 0) throw Unavailable("cannot sync the " + where + ": " + errno_text());
  }

  std::uint64_t seq = 1;
  std::string prev = kGenesisHash;
  if (have_last && complete_end > 0) {
    const std::size_t end_in_tail = static_cast<std::size_t>(complete_end - tail_start) - 1;
    const std::string_view last(tail.data() + last_line_begin, end_in_tail - last_line_begin);
    std::string body;
    std::string hash;
    json doc;
    if (unseal(last, body, hash)) doc = json::parse(body, nullptr, false);
    if (hash.empty() || doc.is_discarded() || !doc.contains("seq") || !doc["seq"].is_number_unsigned())
      throw InvalidInput("the last line of the " + where + " is not an audit record; check it with 'plumetrace audit verify'");
    seq = doc["seq"].get<std::uint64_t>() + 1;
    prev = hash;
  }

  json doc = draft.extra.is_object() ? draft.extra : json::object();
  doc["seq"] = seq;
  doc["prev"] = prev;
  doc["time"] = utc_now();
  doc["command"] = draft.command;
  doc["origin"] = draft.origin;
  if (!doc.contains("version")) doc["version"] = kVersion;
  doc["inputs"] = draft.inputs;
  doc["parameters"] = draft.parameters;
  doc["seeds"] = draft.seeds;
  doc["result_sha256"] = draft.result_sha256;
  const std::string body = doc.dump();
  const std::string line = seal(body);

  // One write() for the whole line; a short write (disk full) is undone.
  const ssize_t wrote = ::write(f.fd, line.data(), line.size());
  if (wrote != static_cast<ssize_t>(line.size())) {
    const std::string why = wrote < 0 ? errno_text() : "short write";
    if (::ftruncate(f.fd, complete_end) != 0) {
      // the torn tail stays; the next append cuts it
    }
    throw Unavailable("cannot write to the " + where + ": " + why);
  }
  if (::fsync(f.fd) != 0) throw Unavailable("cannot sync the " + where + ": " + errno_text());
  if (size == 0 && path.has_parent_path()) {  // a new file: make its directory entry durable too
    Fd dir;
    dir.fd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir.fd >= 0) (void)::fsync(dir.fd);
  }
  Record r;
  r.seq = seq;
  r.hash = sha256_hex(body);
  r.doc = std::move(doc);
  r.doc["hash"] = r.hash;
  return r;
}

VerifyReport verify(const fs::path& path) {
  VerifyReport rep;
  rep.last_hash = kGenesisHash;
  bool exists = false;
  const std::string text = read_all(path, exists);
  const Lines lines = split_lines(text);
  if (lines.torn) {
    Finding t;
    t.line = lines.complete.size() + 1;
    t.message = "line " + std::to_string(t.line) + " is an incomplete record (" + std::to_string(lines.torn->size()) +
                " bytes without a line end: an append was interrupted); the log verifies up to the last complete "
                "record and the next append removes it";
    rep.torn_tail = t;
  }
  // First pass: where each seq is, to tell a removed record from a moved one.
  std::map<std::uint64_t, std::size_t> line_of_seq;
  for (std::size_t i = 0; i < lines.complete.size(); ++i) {
    std::string body, hash;
    if (!unseal(lines.complete[i], body, hash)) continue;
    const json d = json::parse(body, nullptr, false);
    if (!d.is_discarded() && d.contains("seq") && d["seq"].is_number_unsigned())
      line_of_seq.emplace(d["seq"].get<std::uint64_t>(), i + 1);
  }
  std::uint64_t prev_seq = 0;
  std::size_t prev_line = 0;
  for (std::size_t i = 0; i < lines.complete.size(); ++i) {
    const std::size_t ln = i + 1;
    Finding e;
    e.line = ln;
    std::string body, hash;
    if (!unseal(lines.complete[i], body, hash)) {
      e.message = "line " + std::to_string(ln) + " is not a sealed audit record (no hash at its end): edited or inserted";
      rep.error = e;
      return rep;
    }
    const json d = json::parse(body, nullptr, false);
    const bool has_seq = !d.is_discarded() && d.contains("seq") && d["seq"].is_number_unsigned();
    if (has_seq) e.seq = d["seq"].get<std::uint64_t>();
    const std::string name = has_seq ? record_name(*e.seq, ln) : "line " + std::to_string(ln);
    if (sha256_hex(body) != hash) {
      e.message = name + " was edited: its hash does not match its bytes";
      rep.error = e;
      return rep;
    }
    if (!has_seq || !d.contains("prev") || !d["prev"].is_string()) {
      e.message = name + " has no seq or prev: not an audit record";
      rep.error = e;
      return rep;
    }
    const std::uint64_t seq = *e.seq;
    const std::uint64_t expected = prev_seq + 1;
    if (seq != expected) {
      const auto moved = line_of_seq.find(expected);
      if (moved != line_of_seq.end() && moved->second > ln) {
        e.message = name + " is out of order: record " + std::to_string(expected) + " was expected here and is at line " +
                    std::to_string(moved->second) + " (records reordered)";
      } else if (seq > expected) {
        e.message = name + " follows " + (prev_seq == 0 ? std::string("the start of the log") : record_name(prev_seq, prev_line)) +
                    ": record" + (seq - expected > 1 ? "s " + std::to_string(expected) + "-" + std::to_string(seq - 1)
                                                    : " " + std::to_string(expected)) +
                    " removed";
      } else {
        e.message = name + " comes after " + record_name(prev_seq, prev_line) + ": records reordered or duplicated";
      }
      rep.error = e;
      return rep;
    }
    if (d["prev"].get<std::string>() != rep.last_hash) {
      e.message = name + " does not chain to " +
                  (prev_seq == 0 ? std::string("the start of the log") : record_name(prev_seq, prev_line)) +
                  ": its prev is not that record's hash (the record before it was rewritten, replaced or removed)";
      rep.error = e;
      return rep;
    }
    rep.last_hash = hash;
    prev_seq = seq;
    prev_line = ln;
    ++rep.records;
  }
  return rep;
}

std::vector<json> read_records(const fs::path& path) {
  bool exists = false;
  const std::string text = read_all(path, exists);
  std::vector<json> out;
  for (std::string_view line : split_lines(text).complete) {
    json d = json::parse(line, nullptr, false);
    if (!d.is_discarded() && d.is_object()) out.push_back(std::move(d));
  }
  return out;
}

json find_record(const fs::path& path, const std::string& id) {
  const bool numeric = !id.empty() && id.find_first_not_of("0123456789") == std::string::npos;
  if (!numeric && (id.size() < 8 || !is_hex(id))) throw InvalidInput("a record id is its seq or at least 8 hex digits of its hash");
  std::optional<json> found;
  for (json& d : read_records(path)) {
    bool match = false;
    if (numeric)
      match = d.contains("seq") && d["seq"].is_number_unsigned() && std::to_string(d["seq"].get<std::uint64_t>()) == id;
    else
      match = d.contains("hash") && d["hash"].is_string() && d["hash"].get<std::string>().rfind(id, 0) == 0;
    if (!match) continue;
    if (found) throw NotFound("record id '" + id + "' matches several records of " + path.string());
    found = std::move(d);
  }
  if (!found) throw NotFound("no record '" + id + "' in " + path.string());
  return *found;
}

}  // namespace plumetrace::audit
