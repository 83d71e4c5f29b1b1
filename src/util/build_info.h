// What a binary was built from, for `sagaflow --version` and the
// sagaflow_build_info metric.
#pragma once

namespace sagaflow {

// The project version (CMake's PROJECT_VERSION).
inline constexpr const char* kVersion = SAGAFLOW_VERSION;

// The git commit the sources were at when built: 40 hex digits, with
// "-dirty" when tracked files had uncommitted changes; the SAGAFLOW_REVISION
// given to CMake; or "unknown" when the sources were not a git checkout.
// Defined in a file generated at build time (cmake/build_revision.cmake).
const char* BuildRevision();

}  // namespace sagaflow
