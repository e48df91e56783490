# cmake --install: the C++ API headers, libphoton, the daemons and the CLI, and
# photonConfig.cmake so that downstream projects use find_package(photon).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/photon
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT dev)
install(TARGETS photon EXPORT photonTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(PHOTON_INSTALL_EXECUTABLES)
  install(TARGETS ${PHOTON_INSTALL_EXECUTABLES} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(EXPORT photonTargets
        NAMESPACE photon::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/photon)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/photonConfig.cmake.in
  ${CMAKE_BINARY_DIR}/photonConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/photon)
write_basic_package_version_file(
  ${CMAKE_BINARY_DIR}/photonConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/photonConfig.cmake ${CMAKE_BINARY_DIR}/photonConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/photon)
