// Times on the command line and in outputs: unix seconds or ISO 8601, UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace sagaflow::query {

// Accepts unix seconds ("1700000000") or ISO 8601: "2024-03-01",
// "2024-03-01T12:30", "2024-03-01T12:30:15", with an optional "Z" or
// "+HH:MM"/"-HH:MM"/"+HHMM" offset (none = UTC); a space may replace the "T".
// Fractional seconds are refused (event times are whole seconds).
Result<int64_t> ParseTime(std::string_view text);

// "2024-03-01T12:30:15Z".
std::string FormatTime(int64_t unix_seconds);

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
// Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) noexcept;
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d) noexcept;

}  // namespace sagaflow::query
