#include "util/redact.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace sagaflow {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

bool IsSecretName(std::string_view name) {
  // Percent-encoded names ("sasl%2Epassword") are compared decoded enough:
  // the markers hold no character that needs escaping.
  const std::string n = Lower(name);
  constexpr std::array<std::string_view, 5> kMarkers = {"passw", "secret", "token", "jaas", "oauthbearer.config"};
  for (std::string_view m : kMarkers) {
    if (n.find(m) != std::string::npos) return true;
  }
  constexpr std::string_view kPem = "key.pem";
  return n.size() >= kPem.size() && n.compare(n.size() - kPem.size(), kPem.size(), kPem) == 0;
}

std::string RedactUri(std::string_view uri) {
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return std::string(uri);
  const size_t authority_begin = scheme_end + 3;
  size_t authority_end = uri.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = uri.size();
  std::string out(uri.substr(0, authority_begin));
  std::string_view authority = uri.substr(authority_begin, authority_end - authority_begin);
  // The last '@' ends the userinfo (an unescaped '@' in a password included).
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    const size_t colon = userinfo.find(':');
    out += colon == std::string_view::npos ? std::string(userinfo) : std::string(userinfo.substr(0, colon)) + ":***";
    authority = authority.substr(at);
  }
  out += authority;
  std::string_view rest = uri.substr(authority_end);
  const size_t q = rest.find('?');
  if (q == std::string_view::npos) return out + std::string(rest);
  out += rest.substr(0, q + 1);
  std::string_view query = rest.substr(q + 1);
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && IsSecretName(param.substr(0, eq))) {
      out += param.substr(0, eq + 1);
      out += "***";
    } else {
      out += param;
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

}  // namespace sagaflow
