// The one main() of the unit-test executable; each test_<header>.cpp adds its TEST_CASEs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
