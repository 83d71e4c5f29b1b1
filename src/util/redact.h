// Credentials kept out of everything sagaflow logs, prints, serves or
// stores: addresses are shown with their secrets replaced by "***".
#pragma once

#include <string>
#include <string_view>

namespace sagaflow {

// True for the name of a setting whose value is a secret: librdkafka's
// sasl.password, ssl.key.password, ssl.keystore.password, ssl.key.pem,
// sasl.oauthbearer.config, sasl.jaas.config, ... (any name holding
// "passw", "secret", "token", "jaas" or "oauthbearer.config", or ending in
// "key.pem"). Case-insensitive.
bool IsSecretName(std::string_view name);

// `uri` ("scheme://[user[:password]@]host/...?k=v&...") with the password of
// its userinfo and the values of secret query parameters (IsSecretName,
// names percent-decoded or not) replaced by "***". Anything that is not a URI
// is returned as is.
std::string RedactUri(std::string_view uri);

}  // namespace sagaflow
