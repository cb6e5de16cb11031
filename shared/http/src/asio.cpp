// Boost.Asio and Boost.Beast compiled once for the whole project instead of in every translation
// unit that includes them (BOOST_ASIO_SEPARATE_COMPILATION, BOOST_BEAST_SEPARATE_COMPILATION),
// Asio's TLS streams (OpenSSL) included.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
