#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <curl/curl.h>
#include <poll.h>

#include <sonae/http/client.hpp>

namespace sonae::http {
namespace {

std::once_flag g_curl_init;

void global_init() {
    std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* ptr, size_t size, size_t nmemb, void* userdata) {
    static_cast<std::string*>(userdata)->append(ptr, size * nmemb);
    return size * nmemb;
}

size_t on_header(char* ptr, size_t size, size_t nmemb, void* userdata) {
    std::string line(ptr, size * nmemb);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        const auto first = value.find_first_not_of(" \t");
        const auto last = value.find_last_not_of(" \t\r\n");
        value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
        (*static_cast<std::map<std::string, std::string>*>(userdata))[name] = value;
    }
    return size * nmemb;
}

// One exchange's request, response and header list: everything curl points into while it runs.
size_t on_upload(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* left = static_cast<std::string_view*>(userdata);
    const size_t n = std::min(size * nitems, left->size());
    std::memcpy(buffer, left->data(), n);
    left->remove_prefix(n);
    return n;
}

struct Exchange {
    ClientRequest request;
    ClientResponse response;
    curl_slist* headers = nullptr;
    curl_slist* recipients = nullptr;
    std::string_view upload;  // what is left of an e-mail to send
    ~Exchange() {
        curl_slist_free_all(headers);
        curl_slist_free_all(recipients);
    }

    bool smtp() const { return request.url.rfind("smtp", 0) == 0; }

    void configure_smtp(CURL* c) {
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, request.mail_from.c_str());
        for (const auto& r : request.mail_to)
            recipients = curl_slist_append(recipients, r.c_str());
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, recipients);
        if (request.starttls)
            curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
        if (!request.username.empty()) {
            curl_easy_setopt(c, CURLOPT_USERNAME, request.username.c_str());
            curl_easy_setopt(c, CURLOPT_PASSWORD, request.password.c_str());
        }
        upload = request.body;
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
        curl_easy_setopt(c, CURLOPT_READDATA, &upload);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }

    // Sets every option of `c` for this exchange (the same for both clients).
    void configure(CURL* c) {
        const auto timeout = static_cast<long>(request.timeout.count());
        curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout, 5000L));
        if (smtp()) {
            configure_smtp(c);
            return;
        }
        for (const auto& [k, v] : request.headers)
            headers = curl_slist_append(headers, (k + ": " + v).c_str());
        headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
        if (request.method != "GET" && request.method != "HEAD") {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(request.body.size()));
        }
    }

    void finish(CURL* c, CURLcode rc) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (smtp()) {
            response.body = "SMTP " + std::to_string(code);
            if (rc == CURLE_OK)
                response.status = 200;
            else if (code >= 500)
                response.status = 400;  // refused for good (no such mailbox, ...)
            else if (code >= 400)
                response.status = 503;  // try again later
            if (rc != CURLE_OK)
                response.error = curl_easy_strerror(rc);
            return;
        }
        if (rc != CURLE_OK) {
            response.error = curl_easy_strerror(rc);
            response.status = 0;
        } else {
            response.status = code;
        }
    }
};

}  // namespace

struct AsyncClient::Transfer {
    Exchange exchange;
    Done done;
    CURL* easy = nullptr;
};

AsyncClient::AsyncClient() {
    global_init();
    multi_ = curl_multi_init();
    if (multi_ == nullptr)
        throw std::runtime_error("curl_multi_init failed");
}

AsyncClient::~AsyncClient() {
    CURLM* m = static_cast<CURLM*>(multi_);
    for (auto& [easy, t] : transfers_) {
        curl_multi_remove_handle(m, easy);
        curl_easy_cleanup(easy);
    }
    transfers_.clear();
    curl_multi_cleanup(m);
}

void AsyncClient::start(ClientRequest request, Done done) {
    auto t = std::make_unique<Transfer>();
    t->exchange.request = std::move(request);
    t->done = std::move(done);
    t->easy = curl_easy_init();
    if (t->easy == nullptr)
        throw std::runtime_error("curl_easy_init failed");
    t->exchange.configure(t->easy);
    if (curl_multi_add_handle(static_cast<CURLM*>(multi_), t->easy) != CURLM_OK) {
        curl_easy_cleanup(t->easy);
        throw std::runtime_error("curl_multi_add_handle failed");
    }
    void* key = t->easy;
    transfers_.emplace(key, std::move(t));
}

void AsyncClient::wait(int extra_fd, std::chrono::milliseconds timeout) {
    CURLM* m = static_cast<CURLM*>(multi_);
    int still = 0;
    curl_multi_perform(m, &still);
    curl_waitfd extra{};
    extra.fd = extra_fd;
    extra.events = CURL_WAIT_POLLIN;
    int numfds = 0;
    if (timeout.count() > 0)
        curl_multi_poll(m, extra_fd >= 0 ? &extra : nullptr, extra_fd >= 0 ? 1U : 0U,
                        static_cast<int>(timeout.count()), &numfds);
    curl_multi_perform(m, &still);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL* easy = msg->easy_handle;
        const CURLcode rc = msg->data.result;
        auto it = transfers_.find(easy);
        if (it == transfers_.end())
            continue;
        std::unique_ptr<Transfer> t = std::move(it->second);
        transfers_.erase(it);
        t->exchange.finish(easy, rc);
        curl_multi_remove_handle(m, easy);
        curl_easy_cleanup(easy);
        Done done = std::move(t->done);
        ClientResponse response = std::move(t->exchange.response);
        t.reset();
        done(std::move(response));
    }
}

Client::Client() {
    global_init();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) {
        throw std::runtime_error("curl_easy_init failed");
    }
}

Client::~Client() {
    curl_easy_cleanup(static_cast<CURL*>(curl_));
}

ClientResponse Client::request(const ClientRequest& request) {
    CURL* c = static_cast<CURL*>(curl_);
    curl_easy_reset(c);
    Exchange x;
    x.request = request;
    x.configure(c);
    x.finish(c, curl_easy_perform(c));
    return std::move(x.response);
}

ClientResponse Client::request(const std::string& method, const std::string& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, std::chrono::milliseconds timeout) {
    return request(ClientRequest{method, url, headers, body, timeout});
}

}  // namespace sonae::http
