// Binding a listening socket, the one way every server in the mocks does it.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace planproof::mocks {

// Opens `acceptor` on `address`:`port` (0 = any free port) and listens. On success the port
// bound; on failure the acceptor is closed again and the error says why (address in use...).
// SO_REUSEADDR lets a restarted server rebind a port still in TIME_WAIT; Linux still refuses a port
// another socket listens on, so "address in use" is reported as it should be.
boost::system::error_code open_and_listen(boost::asio::ip::tcp::acceptor& acceptor,
                                          const boost::asio::ip::address& address, unsigned short port,
                                          unsigned short& bound);

}  // namespace planproof::mocks
