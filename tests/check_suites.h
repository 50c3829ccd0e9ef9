/*
 * check_suites.h - prototypes of every suite (generated list in build/gen/suites.inc).
 * Each tests/check_<module>.c includes this and defines `Suite *<module>_suite(void)`.
 */
#ifndef WINCLIP_CHECK_SUITES_H
#define WINCLIP_CHECK_SUITES_H
#include <check.h>
#define SUITE(n) Suite *n##_suite(void);
#include "suites.inc"
#undef SUITE
#endif
