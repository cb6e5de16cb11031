# Every dependency comes from Debian 12 packages; nothing is vendored or downloaded.
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(valijson REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
find_package(doctest REQUIRED)
find_package(CLI11 REQUIRED)

# Header-only libraries as SYSTEM includes so that -Werror does not trip on them.
add_library(sonae_mustache INTERFACE)
target_include_directories(sonae_mustache SYSTEM INTERFACE /usr/include/kainjow)
# cmark-gfm: the incident reports' Markdown to HTML, GitHub's tables included.
pkg_check_modules(CMARK_GFM REQUIRED IMPORTED_TARGET libcmark-gfm)  # links the extensions too

if(SONAE_SERVICES)
  find_package(Boost 1.81 REQUIRED COMPONENTS url)
  find_package(spdlog REQUIRED)
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
  pkg_check_modules(RABBITMQ REQUIRED IMPORTED_TARGET librabbitmq)
  pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
  pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)  # CLI tables: display width
  # libcsv (RFC 4180) for `sonae exercise import`; it ships no pkg-config file.
  find_path(LIBCSV_INCLUDE_DIR csv.h REQUIRED)
  find_library(LIBCSV_LIBRARY csv REQUIRED)
  add_library(sonae_libcsv INTERFACE)
  target_include_directories(sonae_libcsv SYSTEM INTERFACE ${LIBCSV_INCLUDE_DIR})
  target_link_libraries(sonae_libcsv INTERFACE ${LIBCSV_LIBRARY})
endif()
