# Installation and the Debian package (issue 14).
#
#   cmake --build build --target sagaflow
#   cmake --install build --prefix /usr/local          # or DESTDIR=... for staging
#   cd build && cpack -G DEB                           # sagaflow_<version>-1_<arch>.deb
#
# Installed: bin/sagaflow; share/sagaflow/entities/sagas.tsv (the curated
# dictionary, the container image's default SAGAFLOW_ENTITIES);
# share/sagaflow/sample/ (the original labelled sample texts: enough to train
# a model and try the pipeline); share/doc/sagaflow/ (README, docs, runbooks,
# an example environment file for `run`). There is no configuration file:
# every setting is a flag or a SAGAFLOW_* variable, and the example shows them.
#
# The package's runtime dependencies come from dpkg-shlibdeps on the binary
# (the shared libraries it links and their Debian packages), plus
# ca-certificates (TLS to Kafka and ClickHouse). tests/deploy/package_test.sh
# installs it into a clean Debian 12 container.
include(GNUInstallDirs)

# `install` installs the product (sagaflow), not every test and benchmark:
# it must not first build everything in the tree.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

install(TARGETS sagaflow RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sagaflow)
install(FILES data/entities/sagas.tsv DESTINATION ${CMAKE_INSTALL_DATADIR}/sagaflow/entities COMPONENT sagaflow)
install(FILES data/sample/README.md data/sample/train.jsonl data/sample/test.jsonl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/sagaflow/sample COMPONENT sagaflow)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT sagaflow)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT sagaflow FILES_MATCHING PATTERN "*.md")
install(FILES packaging/sagaflow.env.example DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT sagaflow)
install(FILES packaging/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT sagaflow)

set(CPACK_PACKAGE_NAME sagaflow)
set(CPACK_PACKAGE_VENDOR "sagaflow")
set(CPACK_PACKAGE_CONTACT "sagaflow maintainers <sagaflow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "streaming text analytics for saga articles")
set(CPACK_PACKAGE_DESCRIPTION
    "sagaflow classifies article events into a saga with a linear text model (scikit-learn parity), "
    "counts the mentions of known entities and stores the results as a star schema in SQLite or "
    "ClickHouse, from files or Kafka, exactly once. One binary: train, produce, run, migrate, query, "
    "serve (HTTP API, dashboard, Prometheus metrics).")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_COMPONENTS_ALL sagaflow)
set(CPACK_STRIP_FILES TRUE)  # the RelWithDebInfo binary is mostly debug info
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)

set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates")
set(CPACK_DEB_COMPONENT_INSTALL OFF)
set(CPACK_GENERATOR DEB)
include(CPack)
