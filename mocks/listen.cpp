#include "mocks/listen.hpp"

namespace planproof::mocks {

boost::system::error_code open_and_listen(boost::asio::ip::tcp::acceptor& acceptor,
                                          const boost::asio::ip::address& address, unsigned short port,
                                          unsigned short& bound) {
  namespace asio = boost::asio;
  boost::system::error_code ec;
  const asio::ip::tcp::endpoint endpoint(address, port);
  auto fail = [&] {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return ec;
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail();
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail();
  if (acceptor.bind(endpoint, ec); ec) return fail();
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail();
  const auto local = acceptor.local_endpoint(ec);
  if (ec) return fail();
  bound = local.port();
  return {};
}

}  // namespace planproof::mocks
