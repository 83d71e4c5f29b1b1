// Bearer-token authentication of the HTTP API (issue 5, "Safety").
#pragma once

#include <string_view>

namespace sagaflow::server {

// a == b in a time that depends only on the lengths of the inputs, never on
// where they differ (so a client cannot find the token byte by byte).
bool ConstantTimeEquals(std::string_view a, std::string_view b) noexcept;

// The token of an "Authorization: Bearer <token>" header value (scheme
// case-insensitive, as RFC 7235 says), or "" when the header is something else.
std::string_view BearerToken(std::string_view authorization) noexcept;

}  // namespace sagaflow::server
