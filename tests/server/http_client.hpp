#pragma once
// Test support: run `plumetrace serve` as a child process and talk to it with Beast's HTTP client.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

namespace plumetrace::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

/// One HTTP exchange's answer.
struct HttpResult {
  int status{};
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// A keep-alive connection to 127.0.0.1:port.
class HttpClient {
 public:
  explicit HttpClient(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }

  /// Send one request and read its response. @throws boost::system::system_error on I/O failure.
  HttpResult request(http::verb method, const std::string& target, const std::string& body = {},
                     const std::map<std::string, std::string>& headers = {}) {
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    http::write(socket_, req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{1} << 30);
    if (method == http::verb::head) parser.skip(true);
    http::read(socket_, buffer_, parser);
    const auto& res = parser.get();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[name] = std::string(f.value());
    }
    out.body = res.body();
    return out;
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

/// One request on a fresh connection.
inline HttpResult http_request(int port, http::verb method, const std::string& target, const std::string& body = {},
                               const std::map<std::string, std::string>& headers = {}) {
  HttpClient c(port);
  return c.request(method, target, body, headers);
}

/// `--store URL` for ServerProcess, or nothing for the embedded default (an empty URL).
inline std::vector<std::string> store_args(const std::string& store_url) {
  if (store_url.empty()) return {};
  return {"--store", store_url};
}

/// `plumetrace serve --data DIR --listen 127.0.0.1:0 [EXTRA_ARGS...]` as a child process; the port is read from
/// its first line of output. Killed (SIGTERM, then waited for) on destruction.
class ServerProcess {
 public:
  explicit ServerProcess(const std::filesystem::path& data_dir, const std::vector<std::string>& extra_args = {}) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<std::string> args{PLUMETRACE_BINARY, "serve", "--data", data_dir.string(), "--listen", "127.0.0.1:0",
                                    "--threads", "2"};
      args.insert(args.end(), extra_args.begin(), extra_args.end());
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(PLUMETRACE_BINARY, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* out = ::fdopen(fds[0], "r");
    char line[256] = {0};
    if (out == nullptr || std::fgets(line, sizeof line, out) == nullptr) throw std::runtime_error("server did not start");
    const std::string s = line;
    const auto colon = s.rfind(':');
    port_ = std::stoi(s.substr(colon + 1));
    out_ = out;
  }
  ~ServerProcess() { kill(SIGTERM); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] int port() const noexcept { return port_; }

  /// Send `sig` and reap the process.
  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    if (out_ != nullptr) std::fclose(out_);
    out_ = nullptr;
  }

 private:
  pid_t pid_{-1};
  int port_{0};
  FILE* out_{nullptr};
};

}  // namespace plumetrace::test
