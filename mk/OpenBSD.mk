# SPDX-License-Identifier: ISC
# OpenBSD: libevent is in base; cJSON and cmocka come from ports.
OSCFLAGS =	-I/usr/local/include
PKG_CFLAGS !=	pkg-config --cflags libcjson 2>/dev/null || true
PKG_LIBS !=	pkg-config --libs libcjson 2>/dev/null || echo -lcjson
EVENT_LIBS =	-levent
SECCOMP_LIBS =
CMOCKA_LIBS !=	pkg-config --libs cmocka 2>/dev/null || echo -L/usr/local/lib -lcmocka
