// doctest's main() for ingest_test; the cases live in the *_test.cpp files beside the code.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
