#include "plumetrace/server/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "api.hpp"
#include "plumetrace/core/error.hpp"
#include "plumetrace/pipeline/init.hpp"
#include "plumetrace/server/job_runner.hpp"
#include "plumetrace/server/problem.hpp"
#include "plumetrace/server/store.hpp"
#include "plumetrace/server/worker_pool.hpp"

namespace plumetrace::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

/// Everything a connection needs from the server.
struct Shared {
  const ServerOptions& opt;
  Api& api;
  WorkerPool& workers;
};

/// One client connection: read a request (idle wait, then headers and body under the read
/// timeout), hand it to a worker, write the answer, repeat while kept alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Shared& shared) : stream_(std::move(socket)), sh_(shared) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->wait_request(); });
  }

 private:
  void wait_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(sh_.opt.header_limit_bytes));
    // the route's limit is set once the headers are read (Beast 1.74: boost::none compares as
    // smaller than any Content-Length, so "no limit" is the largest number)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (buffer_.size() > 0) return read_header();
    stream_.expires_after(sh_.opt.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_header();
    });
  }

  void read_header() {
    stream_.expires_after(sh_.opt.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_header(ec);
    });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::header_limit) return fail(431, "the request headers exceed " + std::to_string(sh_.opt.header_limit_bytes) + " bytes");
    if (ec == beast::error::timeout) return close();  // Beast closed the socket: nothing can be answered
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) return close();
    if (ec) return fail(400, "malformed HTTP request: " + ec.message());
    const auto& h = parser_->get();
    const std::uint64_t limit = sh_.api.body_limit(h.method(), std::string_view(h.target().data(), h.target().size()));
    if (const auto len = parser_->content_length(); len && *len > limit)
      return fail(413, "the body exceeds this route's limit of " + std::to_string(limit) + " bytes");
    parser_->body_limit(limit);
    if (beast::iequals(h[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, h.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code wec, std::size_t) {
        if (wec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_request(ec);
    });
  }

  void on_request(beast::error_code ec) {
    if (ec == http::error::body_limit) return fail(413, "the body exceeds this route's limit");
    if (ec) return close();  // timeout (the socket is closed already), reset, malformed body
    stream_.expires_never();
    auto req = std::make_shared<Request>(parser_->release());
    if (auto hit = sh_.api.cached(*req)) return write(std::move(hit));  // a cached tile: no worker
    auto self = shared_from_this();
    const bool queued = sh_.workers.try_submit([self, req] {
      self->sh_.api.handle(*req, [self](std::shared_ptr<Response> res) {
        net::post(self->stream_.get_executor(), [self, res] { self->write(res); });
      });
    });
    if (!queued) write(sh_.api.problem(503, "the server is busy; try again later", req->version(), false));
  }

  /// Answer an unreadable request with `status` and close the connection.
  void fail(int status, const std::string& detail) {
    write(sh_.api.problem(status, detail, 11, false));
  }

  void write(std::shared_ptr<Response> res) {
    stream_.expires_after(sh_.opt.write_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->wait_request();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& sh_;
};

}  // namespace

void parse_listen(const std::string& text, ServerOptions& options) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) throw InvalidInput("--listen needs HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  const std::string p = text.substr(colon + 1);
  const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
  if (p.empty() || r.ec != std::errc() || r.ptr != p.data() + p.size() || port > 65535)
    throw InvalidInput("--listen: bad port '" + p + "'");
  boost::system::error_code ec;
  (void)net::ip::make_address(host, ec);
  if (ec) throw InvalidInput("--listen: '" + host + "' is not an IP address");
  options.host = host;
  options.port = static_cast<unsigned short>(port);
}

struct Server::Impl {
  ServerOptions opt;
  std::unique_ptr<Store> store;
  std::unique_ptr<JobRunner> jobs;
  std::unique_ptr<Api> api;
  std::unique_ptr<WorkerPool> workers;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<Shared> shared;

  explicit Impl(ServerOptions o) : opt(std::move(o)), ioc(std::max(opt.network_threads, 1)) {}

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), *shared)->start();
      accept();
    });
  }
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  pipeline::init();
  auto& d = *impl_;
  if (d.opt.network_threads < 1) throw InvalidInput("network threads must be at least 1");
  d.store = open_store(d.opt.store_url, d.opt.data_dir);
  d.jobs = std::make_unique<JobRunner>(*d.store, d.opt.job_threads, d.opt.kernel_threads, d.opt.audit_log);
  ApiOptions ao;
  ao.cors_origin = d.opt.cors_origin;
  ao.max_upload_bytes = d.opt.max_upload_bytes;
  ao.tile_cache_bytes = d.opt.tile_cache_bytes;
  if (!d.opt.leaflet_dir.empty()) ao.leaflet_dir = d.opt.leaflet_dir;
  d.api = std::make_unique<Api>(*d.store, *d.jobs, ao);
  const int workers = d.opt.request_threads > 0 ? d.opt.request_threads
                                                : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  d.workers = std::make_unique<WorkerPool>(workers, std::max<std::size_t>(d.opt.max_queued_requests, 1));
  d.shared.emplace(Shared{d.opt, *d.api, *d.workers});
  boost::system::error_code ec;
  const auto address = net::ip::make_address(d.opt.host, ec);
  if (ec) throw InvalidInput("'" + d.opt.host + "' is not an IP address");
  const tcp::endpoint ep(address, d.opt.port);
  d.acceptor.open(ep.protocol(), ec);
  if (!ec) d.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) d.acceptor.bind(ep, ec);
  if (!ec) d.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw Unavailable("cannot listen on " + d.opt.host + ":" + std::to_string(d.opt.port) + ": " + ec.message());
  d.jobs->resume();
  d.accept();
}

Server::~Server() {
  stop();
  impl_->workers->stop();
  impl_->workers.reset();  // handlers finish before the runner and the store go
  impl_->jobs.reset();
}

unsigned short Server::port() const noexcept {
  boost::system::error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void Server::run(bool handle_signals) {
  auto& d = *impl_;
  std::optional<net::signal_set> signals;
  if (handle_signals) {
    signals.emplace(d.ioc, SIGINT, SIGTERM);
    signals->async_wait([this](beast::error_code, int) { stop(); });
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < d.opt.network_threads; ++i) threads.emplace_back([&] { d.ioc.run(); });
  d.ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop() {
  net::post(impl_->ioc, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
}

}  // namespace plumetrace::server
