# The Debian package: `cmake --build build --target package` writes build/marketplace_<version>_<arch>.deb
# (CPack's DEB generator). scripts/check-package builds it, runs lintian on it and checks what it holds.
#
# What goes in beside the `install()` rules every install has (the binary, the docs): the systemd
# units, the nginx site and the default configuration, the Debian copyright and changelog. Those are
# the `deb` component, left out of a plain `cmake --install` (EXCLUDE_FROM_ALL) because they go to
# absolute paths (/etc, /lib/systemd) that a `--prefix /usr/local` install must not write.

set(MKT_DEB_DIR ${CMAKE_SOURCE_DIR}/packaging/deb)
set(MKT_DEB_BUILD ${CMAKE_BINARY_DIR}/package)
set(MKT_DEB_RELEASE 1)
# Read at configure time: a change to any of them configures again.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${MKT_DEB_DIR}/changelog ${MKT_DEB_DIR}/marketplace.1
             ${CMAKE_SOURCE_DIR}/systemd/marketplace.service ${CMAKE_SOURCE_DIR}/systemd/marketplace.socket)

# The changelog's newest entry must be this version: lintian and dpkg read the version from the
# control file, operators from the changelog, and the two must not disagree.
file(STRINGS ${MKT_DEB_DIR}/changelog MKT_DEB_CHANGELOG_TOP LIMIT_COUNT 1)
if(NOT MKT_DEB_CHANGELOG_TOP MATCHES "^marketplace \\(${PROJECT_VERSION}-${MKT_DEB_RELEASE}\\) ")
  message(FATAL_ERROR "packaging/deb/changelog starts with '${MKT_DEB_CHANGELOG_TOP}', "
                      "expected an entry for ${PROJECT_VERSION}-${MKT_DEB_RELEASE} (project() VERSION)")
endif()
file(MAKE_DIRECTORY ${MKT_DEB_BUILD})
# Compressed without a time stamp (-n), as Debian wants them, so the same sources give the same bytes.
foreach(pair "changelog:changelog.Debian.gz" "marketplace.1:marketplace.1.gz")
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  execute_process(COMMAND gzip -9n -c ${MKT_DEB_DIR}/${from} OUTPUT_FILE ${MKT_DEB_BUILD}/${to}
                  RESULT_VARIABLE MKT_GZIP_RC)
  if(NOT MKT_GZIP_RC EQUAL 0)
    message(FATAL_ERROR "gzip of packaging/deb/${from} failed")
  endif()
endforeach()
install(FILES ${MKT_DEB_BUILD}/marketplace.1.gz DESTINATION share/man/man1)

# The units in systemd/ name /usr/local/bin (a hand-made install); the package's binary is /usr/bin.
foreach(unit marketplace.service marketplace.socket)
  file(READ ${CMAKE_SOURCE_DIR}/systemd/${unit} MKT_UNIT)
  string(REPLACE "/usr/local/bin/marketplace" "/usr/bin/marketplace" MKT_UNIT "${MKT_UNIT}")
  string(REPLACE "/usr/local/share/doc/" "/usr/share/doc/" MKT_UNIT "${MKT_UNIT}")
  file(WRITE ${MKT_DEB_BUILD}/${unit} "${MKT_UNIT}")
endforeach()

install(FILES ${MKT_DEB_BUILD}/marketplace.service ${MKT_DEB_BUILD}/marketplace.socket
        DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/nginx/marketplace.conf
        DESTINATION /etc/nginx/sites-available COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${CMAKE_SOURCE_DIR}/systemd/marketplace.conf.example RENAME marketplace.conf
        DESTINATION /etc/marketplace COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${MKT_DEB_DIR}/copyright ${MKT_DEB_BUILD}/changelog.Debian.gz
        DESTINATION share/doc/marketplace COMPONENT deb EXCLUDE_FROM_ALL)

# Full RELRO, as Debian's own packages are linked (lintian: hardening-no-bindnow): the GOT is read-only
# once the server has started.
target_link_options(marketplace PRIVATE -Wl,-z,relro,-z,now)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME marketplace)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Marketplace maintainers <maintainers@marketplace.example.com>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
# One package from both components: what every install has, and the deb-only files.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Unspecified deb)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME marketplace)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${MKT_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "FastCGI server of a marketplace for software tools
A marketplace where developers publish typed, tested tools written in Lua
and buyers find, buy and run them. This package holds the pre-forked
FastCGI server that runs behind nginx with MariaDB, its systemd socket and
service, an nginx site and a default configuration.")
# Libraries from the binary's ELF dependencies (dpkg-shlibdeps); adduser for postinst's system user;
# libfcgi at the Debian 12 update that fixed CVE-2025-23016 (shlibdeps alone would accept 2.4.2).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libfcgi0ldbl (>= 2.4.2-2+deb12u1)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mariadb-server")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${MKT_DEB_DIR}/postinst ${MKT_DEB_DIR}/prerm ${MKT_DEB_DIR}/postrm ${MKT_DEB_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
