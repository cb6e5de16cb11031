// Outbound HTTP(S) over libcurl, for webhook deliveries, chat replies and the playbooks' automated
// HTTP actions. AsyncClient runs many requests at once on the calling thread (curl multi), so a
// receiver that hangs holds only its own request; Client is the blocking form for tools and tests.
// Neither is thread-safe: each belongs to one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sonae::http {

struct ClientRequest {
    ClientRequest() = default;
    ClientRequest(std::string m, std::string u, std::vector<std::pair<std::string, std::string>> h,
                  std::string b, std::chrono::milliseconds t)
        : method(std::move(m)),
          url(std::move(u)),
          headers(std::move(h)),
          body(std::move(b)),
          timeout(t) {}

    std::string method = "POST";
    std::string url;  // http(s)://, or smtp(s):// to send `body` as an e-mail message
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{10000};  // the whole exchange, connect included
    // SMTP only: envelope sender and recipients, credentials, STARTTLS on smtp://.
    std::string mail_from;
    std::vector<std::string> mail_to;
    std::string username;
    std::string password;
    bool starttls = false;
};

struct ClientResponse {
    // 0 when no response arrived. SMTP answers are mapped: accepted 200, a transient refusal
    // (4xx) 503, a permanent one (5xx) 400, so that one classification serves both.
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string error;                           // transport error, when status == 0
};

class AsyncClient {
  public:
    using Done = std::function<void(ClientResponse)>;
    AsyncClient();
    ~AsyncClient();  // abandons what is still running; their callbacks never run
    AsyncClient(const AsyncClient&) = delete;
    AsyncClient& operator=(const AsyncClient&) = delete;

    // Starts a request; `done` runs inside a later wait(), on this thread.
    void start(ClientRequest request, Done done);
    // Waits up to `timeout` for progress on the requests or for `extra_fd` to become readable
    // (-1: none), then completes what finished. Returns at once when nothing is running and
    // extra_fd is -1 and timeout is zero.
    void wait(int extra_fd, std::chrono::milliseconds timeout);
    std::size_t running() const { return transfers_.size(); }

  private:
    struct Transfer;
    void* multi_;
    std::map<void*, std::unique_ptr<Transfer>> transfers_;  // by curl easy handle
};

class Client {
  public:
    Client();
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    ClientResponse request(const ClientRequest& request);
    ClientResponse request(const std::string& method, const std::string& url,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body, std::chrono::milliseconds timeout);

  private:
    void* curl_;
};

}  // namespace sonae::http
