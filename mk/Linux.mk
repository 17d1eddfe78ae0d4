# SPDX-License-Identifier: ISC
# Linux (Debian 12): glibc needs _GNU_SOURCE for the POSIX/BSD interfaces,
# libbsd's overlay supplies strlcpy, strtonum, reallocarray, <sys/tree.h>.
OSCFLAGS =	-D_GNU_SOURCE
PKG_CFLAGS !=	pkg-config --cflags libevent_core libcjson libbsd-overlay \
		    2>/dev/null || true
PKG_LIBS !=	pkg-config --libs libcjson libbsd-overlay 2>/dev/null || true
EVENT_LIBS !=	pkg-config --libs libevent_core 2>/dev/null || true
SECCOMP_LIBS !=	pkg-config --libs libseccomp 2>/dev/null || true
CMOCKA_LIBS !=	pkg-config --libs cmocka 2>/dev/null || true
MANDIR =	$(PREFIX)/share/man
