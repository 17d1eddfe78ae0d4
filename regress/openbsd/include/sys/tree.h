/* SPDX-License-Identifier: ISC */
/* <sys/tree.h> for make portcheck: glibc has none; libbsd's. */
#ifndef PORTCHECK_SYS_TREE_H
#define PORTCHECK_SYS_TREE_H

#include <bsd/sys/tree.h>

#endif
