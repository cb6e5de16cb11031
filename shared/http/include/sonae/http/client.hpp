// Outbound HTTP(S) over libcurl, one Client per thread (it reuses its connections).
// Used for webhook deliveries and the playbooks' automated HTTP actions.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace sonae::http {

struct ClientResponse {
    long status = 0;  // 0 when no response arrived
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string error;                           // transport error, when status == 0
};

class Client {
  public:
    Client();
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    ClientResponse request(const std::string& method, const std::string& url,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body, std::chrono::milliseconds timeout);

  private:
    void* curl_;
};

}  // namespace sonae::http
