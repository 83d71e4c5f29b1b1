# The dashboard's web files (web/: the page, its script and style, Chart.js
# from web/node_modules) embedded into sagaflow_lib as dashboard_files.inc,
# regenerated in the build dir whenever one of them changes.

set(SAGAFLOW_WEB_DIR "${CMAKE_SOURCE_DIR}/web")
set(chart_js "${SAGAFLOW_WEB_DIR}/node_modules/chart.js/dist/chart.umd.js")

# The chart library comes from `npm ci` in web/ (scripts/setup runs it): no
# dashboard without it, and never one built against another version than the
# lock file's.
if(NOT EXISTS "${chart_js}")
  message(FATAL_ERROR "web/node_modules/chart.js is missing: run scripts/setup "
                      "(it runs `npm ci` in web/) before configuring.")
endif()
file(READ "${SAGAFLOW_WEB_DIR}/package-lock.json" lock_json)
string(JSON chart_locked GET "${lock_json}" packages "node_modules/chart.js" version)
file(READ "${SAGAFLOW_WEB_DIR}/node_modules/chart.js/package.json" chart_package_json)
string(JSON chart_installed GET "${chart_package_json}" version)
if(NOT chart_installed STREQUAL chart_locked)
  message(FATAL_ERROR "web/node_modules is out of date (chart.js ${chart_installed} installed, "
                      "${chart_locked} in package-lock.json): run scripts/setup.")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  "${SAGAFLOW_WEB_DIR}/package-lock.json" "${SAGAFLOW_WEB_DIR}/node_modules/chart.js/package.json")

# URL path = file. "/" is the page; everything it loads is under /assets/.
set(dashboard_files
  "/=${SAGAFLOW_WEB_DIR}/index.html"
  "/assets/app.js=${SAGAFLOW_WEB_DIR}/app.js"
  "/assets/style.css=${SAGAFLOW_WEB_DIR}/style.css"
  "/assets/chart.umd.js=${chart_js}")
set(dashboard_inputs ${dashboard_files})
list(TRANSFORM dashboard_inputs REPLACE "^[^=]*=" "")
list(JOIN dashboard_files "|" dashboard_files_arg)

set(dashboard_inc "${CMAKE_CURRENT_BINARY_DIR}/dashboard_files.inc")
add_custom_command(
  OUTPUT "${dashboard_inc}"
  COMMAND "${CMAKE_COMMAND}" "-DOUTPUT=${dashboard_inc}" "-DFILES=${dashboard_files_arg}"
          -P "${CMAKE_CURRENT_SOURCE_DIR}/embed_files.cmake"
  DEPENDS ${dashboard_inputs} "${CMAKE_CURRENT_SOURCE_DIR}/embed_files.cmake"
  COMMENT "Embedding the dashboard (web/)"
  VERBATIM)

# sagaflow_lib is defined in the top directory: the generated file reaches it
# through a custom target (a custom command's output is only visible to
# targets of its own directory), the include path through TARGET_DIRECTORY.
add_custom_target(sagaflow_dashboard_files DEPENDS "${dashboard_inc}")
add_dependencies(sagaflow_lib sagaflow_dashboard_files)
target_sources(sagaflow_lib PRIVATE dashboard_assets.cc)
set_source_files_properties("${CMAKE_CURRENT_SOURCE_DIR}/dashboard_assets.cc"
  TARGET_DIRECTORY sagaflow_lib
  PROPERTIES INCLUDE_DIRECTORIES "${CMAKE_CURRENT_BINARY_DIR}")

sagaflow_test(dashboard_assets_test dashboard_assets_test.cc)
