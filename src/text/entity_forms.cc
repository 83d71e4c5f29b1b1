#include "text/entity_forms.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "text/unicode.h"

namespace sagaflow::text {

namespace {

constexpr std::string_view kQuotes[] = {"'", "\u2019", "\u2018"};

// Who claims a string: the lower (tier, entity) wins.
using Claim = std::pair<int, uint32_t>;

void Offer(std::map<std::string, Claim>* claims, std::string s, Claim claim) {
  auto [it, inserted] = claims->emplace(std::move(s), claim);
  if (!inserted && claim < it->second) it->second = claim;
}

// Calls fn on every spelling of `s` with its quote characters replaced by
// any of kQuotes (s itself included).
template <typename Fn>
Status ForEachQuoteSpelling(const std::string& s, Fn&& fn) {
  std::vector<std::string> parts(1);  // s split at its quote characters
  for (size_t i = 0; i < s.size();) {
    const size_t start = i;
    const char32_t c = DecodeUtf8(s, &i);
    if (IsQuoteVariant(c)) {
      parts.emplace_back();
    } else {
      parts.back().append(s, start, i - start);
    }
  }
  const size_t quotes = parts.size() - 1;
  if (quotes > static_cast<size_t>(kMaxQuotesPerForm)) {
    return Status::InvalidArgument(
        fmt::format("surface form \"{}\" has {} quote characters (at most {})", s, quotes, kMaxQuotesPerForm));
  }
  std::vector<size_t> choice(quotes, 0);
  std::string spelling;
  for (;;) {
    spelling = parts[0];
    for (size_t q = 0; q < quotes; ++q) spelling.append(kQuotes[choice[q]]).append(parts[q + 1]);
    fn(spelling);
    size_t q = 0;
    while (q < quotes && ++choice[q] == std::size(kQuotes)) choice[q++] = 0;
    if (q == quotes) return Status::Ok();
  }
}

// The factors of tiers 1 and 3 (TitledForms).
Status FactorTitled(const EntityDictionary& dict, std::string_view saga,
                    const std::map<std::string, uint32_t>& explicit_forms, TitledForms* out) {
  std::string upper;
  for (const Title& title : dict.titles()) {
    if (!title.saga.empty() && title.saga != saga) continue;
    for (const std::string& spelling : title.spellings) {
      upper.clear();
      AppendUppercase(spelling, &upper);
      SAGAFLOW_RETURN_IF_ERROR(
          ForEachQuoteSpelling(spelling, [&](const std::string& v) { out->paths[v] |= kTitleAsWritten; }));
      SAGAFLOW_RETURN_IF_ERROR(
          ForEachQuoteSpelling(upper, [&](const std::string& v) { out->paths[v] |= kTitleAllCaps; }));
    }
  }
  if (out->paths.empty()) return Status::Ok();
  auto offer = [](std::map<std::string, uint32_t>* names, const std::string& s, uint32_t k) {
    auto [it, inserted] = names->emplace(s, k);
    if (!inserted) it->second = std::min(it->second, k);
  };
  for (const auto& [form, k] : explicit_forms) {
    if (dict.entities()[k].kind != "character") continue;
    upper.clear();
    AppendUppercase(form, &upper);
    SAGAFLOW_RETURN_IF_ERROR(
        ForEachQuoteSpelling(form, [&, &k = k](const std::string& v) { offer(&out->names, v, k); }));
    SAGAFLOW_RETURN_IF_ERROR(
        ForEachQuoteSpelling(upper, [&, &k = k](const std::string& v) { offer(&out->all_caps_names, v, k); }));
  }
  return Status::Ok();
}

}  // namespace

bool IsQuoteVariant(char32_t c) noexcept { return c == '\'' || c == 0x2019 || c == 0x2018; }

Result<ScopeForms> ExpandScopeForms(const EntityDictionary& dict, std::string_view saga) {
  const auto& entities = dict.entities();
  ScopeForms scope;
  scope.saga = std::string(saga);

  // Tier 0. The saga's own entries first, so that they shadow unscoped ones.
  std::map<std::string, uint32_t> explicit_forms;
  std::string normalized;
  for (const bool own : {true, false}) {
    std::map<std::string, uint32_t> added;  // this pass: a clash inside it is an error
    for (uint32_t k = 0; k < entities.size(); ++k) {
      const Entity& e = entities[k];
      if (own ? (saga.empty() || e.saga != saga) : !e.saga.empty()) continue;
      auto add = [&](const std::string& form) -> Status {
        if (!NormalizeSurfaceForm(form, &normalized) || normalized.empty() || normalized != form) {
          return Status::InvalidArgument(fmt::format("entity {}: surface form is not normalized", e.name));
        }
        if (!added.emplace(form, k).second) {
          return Status::InvalidArgument(fmt::format("entity {}: surface form {} mapped twice", e.name, form));
        }
        explicit_forms.emplace(form, k);  // keeps the saga's own entry
        return Status::Ok();
      };
      SAGAFLOW_RETURN_IF_ERROR(add(e.name));
      for (const std::string& alias : e.aliases) SAGAFLOW_RETURN_IF_ERROR(add(alias));
    }
  }

  std::map<std::string, Claim> claims;
  for (const auto& [form, k] : explicit_forms) claims.emplace(form, Claim{0, k});

  // Tier 1: title spellings of the scope before character forms.
  for (const Title& title : dict.titles()) {
    if (!title.saga.empty() && title.saga != saga) continue;
    for (const std::string& spelling : title.spellings) {
      for (const auto& [form, k] : explicit_forms) {
        if (entities[k].kind == "character") Offer(&claims, fmt::format("{} {}", spelling, form), Claim{1, k});
      }
    }
  }

  // Tiers 2 and 3: ALL-CAPS and quote spellings of what tiers 0 and 1 resolved to.
  std::map<std::string, Claim> variants;
  std::string upper;
  for (const auto& [s, claim] : claims) {
    upper.clear();
    AppendUppercase(s, &upper);
    for (const std::string* base : {&s, static_cast<const std::string*>(&upper)}) {
      SAGAFLOW_RETURN_IF_ERROR(ForEachQuoteSpelling(*base, [&, &s = s, &claim = claim](const std::string& spelling) {
        if (spelling != s) Offer(&variants, spelling, Claim{claim.first + 2, claim.second});
      }));
    }
  }
  for (auto& [s, claim] : variants) claims.emplace(s, claim);  // a tier-0/1 string keeps its claim

  for (const auto& [s, claim] : claims) {
    scope.form.emplace_hint(scope.form.end(), s, claim.second);
    if (claim.first % 2 == 0) scope.direct.emplace_hint(scope.direct.end(), s, claim.second);
    scope.explicit_forms += claim.first == 0;
  }
  SAGAFLOW_RETURN_IF_ERROR(FactorTitled(dict, saga, explicit_forms, &scope.titled));
  return scope;
}

Result<std::vector<ScopeForms>> ExpandForms(const EntityDictionary& dict) {
  std::vector<ScopeForms> scopes;
  auto unscoped = ExpandScopeForms(dict, "");
  if (!unscoped.ok()) return unscoped.status();
  scopes.push_back(std::move(unscoped).value());
  for (std::string_view saga : kSagas) {
    const bool used =
        std::any_of(dict.entities().begin(), dict.entities().end(), [&](const Entity& e) { return e.saga == saga; }) ||
        std::any_of(dict.titles().begin(), dict.titles().end(), [&](const Title& t) { return t.saga == saga; });
    if (!used) continue;
    auto forms = ExpandScopeForms(dict, saga);
    if (!forms.ok()) return forms.status();
    scopes.push_back(std::move(forms).value());
  }
  return scopes;
}

}  // namespace sagaflow::text
