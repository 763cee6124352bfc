#include "clickhouse_http.hpp"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

namespace seatlock::collector {
namespace {

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// TabSeparated escapes: \t \n \\ and a few more (ClickHouse's writeEscapedString).
std::string tsv_unescape(std::string_view f) {
  std::string out;
  out.reserve(f.size());
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '\\' || i + 1 == f.size()) {
      out += f[i];
      continue;
    }
    char c = f[++i];
    switch (c) {
      case 't':
        out += '\t';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case '0':
        out += '\0';
        break;
      case 'a':
        out += '\a';
        break;
      case 'v':
        out += '\v';
        break;
      default:
        out += c;  // \\ \' and anything else stand for themselves
    }
  }
  return out;
}

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

struct Sink {
  const std::function<void(std::string_view)>* fn;
  std::string body;  // kept when there is no sink, and always for errors
  long status = 0;
  CURL* curl;
};

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (s->status == 0) curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
  std::string_view chunk(p, size * n);
  if (s->fn && s->status == 200) {
    try {
      (*s->fn)(chunk);
    } catch (...) {
      return 0;  // abort the transfer; the caller rethrows below
    }
  } else {
    s->body.append(chunk);
  }
  return size * n;
}

}  // namespace

std::string ch_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

ClickHouseEndpoint parse_clickhouse_url(const std::string& url) {
  ClickHouseEndpoint ep;
  std::string password_file;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    throw std::invalid_argument("expected clickhouse:http://HOST:PORT[/?database=NAME], got \"" +
                                url + "\"");
  std::string rest = url;
  if (auto q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    std::size_t pos = 0;
    while (pos <= query.size()) {
      auto amp = query.find('&', pos);
      std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
      auto eq = kv.find('=');
      std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (k == "database")
        ep.database = v;
      else if (k == "user")
        ep.user = v;
      else if (k == "password_file")
        password_file = v;
      else if (!k.empty())
        throw std::invalid_argument("clickhouse URL: unknown parameter \"" + k +
                                    "\" (known: database, user, password_file)");
      if (amp == std::string::npos) break;
      pos = amp + 1;
    }
  }
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find('/', rest.find("//") + 2) != std::string::npos)
    throw std::invalid_argument("clickhouse URL: no path expected after HOST:PORT in \"" + url +
                                "\"");
  ep.base_url = rest;
  if (ep.database.empty()) throw std::invalid_argument("clickhouse URL: empty database name");
  for (char c : ep.database)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      throw std::invalid_argument("clickhouse URL: database names are letters, digits and _");
  if (ep.user.empty())
    if (const char* u = std::getenv("SEATLOCK_CLICKHOUSE_USER")) ep.user = u;
  if (!password_file.empty()) {
    std::ifstream in(password_file);
    if (!in)
      throw std::invalid_argument("cannot read the ClickHouse password file " + password_file);
    std::getline(in, ep.password);
  } else if (const char* p = std::getenv("SEATLOCK_CLICKHOUSE_PASSWORD")) {
    ep.password = p;
  }
  return ep;
}

std::string ClickHouseHttp::post(const std::string& query_string, const std::string& body,
                                 const std::function<void(std::string_view)>* sink) const {
  static CurlGlobal global;
  // Idle handles of this thread, reused: their connection stays open between requests
  // (keep-alive), which saves a TCP handshake and a server thread start per statement. A
  // request made from inside a row callback (a nested query) takes another handle.
  thread_local std::vector<std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>> idle;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(nullptr, curl_easy_cleanup);
  if (!idle.empty()) {
    curl = std::move(idle.back());
    idle.pop_back();
    curl_easy_reset(curl.get());
  } else {
    curl.reset(curl_easy_init());
  }
  if (!curl) throw std::runtime_error("clickhouse: curl_easy_init failed");
  struct GiveBack {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>& handle;
    ~GiveBack() {
      if (idle.size() < 4) idle.push_back(std::move(handle));
    }
  } give_back{curl};
  std::string url =
      ep_.base_url + "/?max_execution_time=" + std::to_string(ep_.timeout_s) + query_string;
  Sink s{sink, {}, 0, curl.get()};
  struct curl_slist* headers = nullptr;
  // HTTP basic authentication: understood by every ClickHouse release.
  if (!ep_.user.empty() || !ep_.password.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_USERNAME, ep_.user.empty() ? "default" : ep_.user.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PASSWORD, ep_.password.c_str());
  }
  headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> hold(headers, curl_slist_free_all);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_POST, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, static_cast<long>(ep_.timeout_s + 5));
  CURLcode rc = curl_easy_perform(curl.get());
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &s.status);
  if (rc == CURLE_WRITE_ERROR && sink) {
    // The row callback threw: run it again outside curl to rethrow the same error is not
    // possible, so report it plainly.
    throw std::runtime_error("clickhouse: reading the result failed (row callback error)");
  }
  if (rc != CURLE_OK)
    throw std::runtime_error("clickhouse at " + ep_.base_url + ": " + curl_easy_strerror(rc));
  if (s.status != 200) {
    std::string msg = s.body.substr(0, 2000);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    throw std::runtime_error("clickhouse at " + ep_.base_url + ": HTTP " +
                             std::to_string(s.status) + ": " + msg);
  }
  return std::move(s.body);
}

void append_tsv_field(std::string& out, std::string_view field) {
  std::size_t from = 0;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char* esc = nullptr;
    switch (field[i]) {
      case '\\':
        esc = "\\\\";
        break;
      case '\t':
        esc = "\\t";
        break;
      case '\n':
        esc = "\\n";
        break;
      case '\r':
        esc = "\\r";
        break;
      case '\0':
        esc = "\\0";
        break;
      default:
        continue;
    }
    out.append(field.substr(from, i - from));
    out += esc;
    from = i + 1;
  }
  out.append(field.substr(from));
}

void ClickHouseHttp::exec(const std::string& sql, bool in_database) const {
  post(in_database ? "&database=" + ep_.database : "", sql, nullptr);
}

void ClickHouseHttp::insert_json_rows(const std::string& table, const std::string& rows) const {
  insert_rows(table, "JSONEachRow", rows);
}

void ClickHouseHttp::insert_rows(const std::string& into, const std::string& format,
                                 const std::string& rows) const {
  if (rows.empty()) return;
  post("&database=" + ep_.database +
           "&query=" + url_encode("INSERT INTO " + into + " FORMAT " + format),
       rows, nullptr);
}

void ClickHouseHttp::select(const std::string& sql,
                            const std::function<void(const std::vector<std::string>&)>& row,
                            bool in_database) const {
  std::string pending;
  std::exception_ptr failure;
  std::vector<std::string> fields;
  std::function<void(std::string_view)> sink = [&](std::string_view chunk) {
    pending.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      fields.clear();
      std::size_t f = 0;
      while (true) {
        auto tab = line.find('\t', f);
        fields.push_back(
            tsv_unescape(line.substr(f, tab == std::string_view::npos ? tab : tab - f)));
        if (tab == std::string_view::npos) break;
        f = tab + 1;
      }
      try {
        row(fields);
      } catch (...) {
        failure = std::current_exception();
        throw;
      }
    }
    pending.erase(0, start);
  };
  try {
    post(in_database ? "&database=" + ep_.database : "", sql + " FORMAT TabSeparated", &sink);
  } catch (...) {
    if (failure) std::rethrow_exception(failure);
    throw;
  }
}

std::vector<std::vector<std::string>> ClickHouseHttp::select_all(const std::string& sql,
                                                                 bool in_database) const {
  std::vector<std::vector<std::string>> out;
  select(
      sql, [&](const std::vector<std::string>& r) { out.push_back(r); }, in_database);
  return out;
}

}  // namespace seatlock::collector
