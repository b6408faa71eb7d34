// OpenStore and MaskStoreUrl (store.h), and the URL secret helpers
// (store_url.h).
#include <cctype>
#include <string_view>

#include "governance/pg_store.h"
#include "governance/sqlite_store.h"
#include "governance/store.h"
#include "governance/store_url.h"

namespace sy::gov {

namespace {

struct Span {
  size_t begin, end;  // [begin, end) in the URL
};

bool StartsWithNoCase(std::string_view s, size_t at, std::string_view prefix) {
  if (s.size() - at < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[at + i])) != prefix[i]) return false;
  }
  return true;
}

// Where the passwords are: "scheme://user:PASSWORD@host...", "?password=X&..."
// in a URL, or "password=X" / "password = 'X'" in a key=value string.
std::vector<Span> PasswordSpans(std::string_view url) {
  std::vector<Span> spans;
  const size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const size_t start = scheme + 3;
    // The last '@' anywhere: a password with an unescaped '@', '/' or '?'
    // is still masked whole (over-masking a path or query is the safe mistake).
    const size_t last_at = url.rfind('@');
    const size_t at = last_at != std::string_view::npos && last_at >= start ? last_at : std::string_view::npos;
    const size_t query = url.find('?', at == std::string_view::npos ? start : at);
    if (at != std::string_view::npos) {
      const size_t colon = url.find(':', start);
      if (colon < at) spans.push_back({colon + 1, at});
    }
    if (query != std::string_view::npos) {
      size_t p = query + 1;
      while (p < url.size()) {
        size_t amp = url.find('&', p);
        if (amp == std::string_view::npos) amp = url.size();
        if (StartsWithNoCase(url, p, "password=")) spans.push_back({p + 9, amp});
        p = amp + 1;
      }
    }
    return spans;
  }
  for (size_t p = 0; (p = url.find_first_of("pP", p)) != std::string_view::npos; ++p) {
    if (!StartsWithNoCase(url, p, "password")) continue;
    size_t q = p + 8;
    while (q < url.size() && url[q] == ' ') ++q;
    if (q >= url.size() || url[q] != '=') continue;
    ++q;
    while (q < url.size() && url[q] == ' ') ++q;
    size_t end = q;
    if (q < url.size() && url[q] == '\'') {
      end = q + 1;
      while (end < url.size() && url[end] != '\'') end += url[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, url.size());
    } else {
      while (end < url.size() && !std::isspace(static_cast<unsigned char>(url[end]))) ++end;
    }
    spans.push_back({q, end});
  }
  return spans;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool StartsWith(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

std::vector<std::string> UrlSecrets(const std::string& url) {
  std::vector<std::string> secrets;
  for (const Span& s : PasswordSpans(url)) {
    if (s.end <= s.begin) continue;
    std::string raw = url.substr(s.begin, s.end - s.begin);
    std::string decoded = PercentDecode(raw);
    if (!decoded.empty() && decoded != raw) secrets.push_back(std::move(decoded));
    secrets.push_back(std::move(raw));
  }
  return secrets;
}

std::string ScrubSecrets(std::string message, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t p = 0; (p = message.find(secret, p)) != std::string::npos; p += 4) {
      message.replace(p, secret.size(), "****");
    }
  }
  return message;
}

std::string MaskStoreUrl(const std::string& url) {
  std::string out = url;
  auto spans = PasswordSpans(url);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {  // back to front: offsets stay valid
    if (it->end > it->begin) out.replace(it->begin, it->end - it->begin, "****");
  }
  return out;
}

std::unique_ptr<Store> OpenStore(const std::string& url, const std::string& base_dir, std::string* error) {
  auto fail = [&](const std::string& message) -> std::unique_ptr<Store> {
    if (error != nullptr) *error = ScrubSecrets(message, UrlSecrets(url));
    return nullptr;
  };
  constexpr std::string_view kSqlite = "sqlite://";
  if (StartsWith(url, kSqlite)) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) return fail("store URL " + url + " names no file");
    if (path == ":memory:" || StartsWith(path, "file:")) {
      return fail("store URL " + url + ": in-memory and URI file names are not supported");
    }
    // sqlite:///abs/path is absolute; sqlite://rel/path is relative to base_dir.
    if (path.front() != '/' && !base_dir.empty()) {
      path = base_dir + (base_dir.back() == '/' ? "" : "/") + path;
    }
    std::unique_ptr<SqliteStore> store;
    Status s = SqliteStore::Open(path, &store);
    if (!s.ok()) return fail(s.message());
    return store;
  }
  if (StartsWith(url, "postgres://") || StartsWith(url, "postgresql://")) {
    std::unique_ptr<PgStore> store;
    Status s = PgStore::Open(url, &store);
    if (!s.ok()) return fail(s.message());
    return store;
  }
  return fail("unsupported store URL " + MaskStoreUrl(url) +
              " (expected sqlite://PATH, postgres://... or postgresql://...)");
}

}  // namespace sy::gov
