# Compiler flags live on two INTERFACE targets that every sonae target links PRIVATE.
add_library(sonae_options INTERFACE)
add_library(sonae_warnings INTERFACE)

target_compile_features(sonae_options INTERFACE cxx_std_20)
target_compile_options(sonae_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wconversion -Wsign-conversion -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives from inlined std::string / Boost code at -O2 and above.
  target_compile_options(sonae_warnings INTERFACE -Wno-maybe-uninitialized -Wno-restrict
    -Wno-array-bounds -Wno-stringop-overflow -Wno-mismatched-new-delete)
endif()

# Beast/Asio are compiled once, in sonae_asio (shared/http/CMakeLists.txt).

if(SONAE_SANITIZE STREQUAL "thread")
  target_compile_options(sonae_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Asio's atomic_thread_fence (in its handler recycling) is outside what TSan models; GCC
    # says so for every use. The fences only order Asio's own allocator caches.
    target_compile_options(sonae_warnings INTERFACE -Wno-tsan)
  endif()
  target_link_options(sonae_options INTERFACE -fsanitize=thread)
elseif(SONAE_SANITIZE)
  target_compile_options(sonae_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(sonae_options INTERFACE -fsanitize=address,undefined)
endif()

find_program(SONAE_CCACHE ccache)
if(SONAE_CCACHE)
  # Paths relative to the source tree in ccache's hash: a fresh clone elsewhere (CI) reuses what
  # an earlier build of the same sources compiled.
  set(SONAE_CCACHE_LAUNCHER ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}
      CCACHE_NOHASHDIR=true ${SONAE_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${SONAE_CCACHE_LAUNCHER})
  set(CMAKE_C_COMPILER_LAUNCHER ${SONAE_CCACHE_LAUNCHER})
endif()
