// Percent-decoding (RFC 3986 section 2.1) of URI parts: store addresses,
// request targets and query strings.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace sagaflow {

// Decodes `in` into `out` (cleared first); in a form-encoded query
// `plus_is_space` also turns '+' into ' '. False, with `out` unspecified,
// when a '%' is not followed by two hex digits. Decoded bytes are not
// checked: "%00" or invalid UTF-8 are the caller's to refuse.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// The same for a part of an address ('+' kept): kInvalidArgument "bad
// percent escape in <what>" (what names the part; the value is not echoed,
// it may be a secret).
Result<std::string> PercentDecoded(std::string_view in, std::string_view what);

}  // namespace sagaflow
