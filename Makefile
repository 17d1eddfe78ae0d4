# SPDX-License-Identifier: ISC
# apm2d -- one Makefile for GNU make and OpenBSD make.
#
# Only portable constructs: != shell assignment, suffix rules, -include of a
# per-OS fragment (mk/<uname -s>.mk).  No pattern rules, no $^, no wildcard.

OS !=		uname -s
PREFIX ?=	/usr/local
BINDIR ?=	$(PREFIX)/sbin
CTLBINDIR ?=	$(PREFIX)/bin
MANDIR ?=	$(PREFIX)/man
# The configuration lives in $(SYSCONFDIR)/apm2 whatever PREFIX is, as
# upstream's does; the daemon and apm2ctl have it compiled in.
SYSCONFDIR ?=	/etc
DESTDIR ?=
CC ?=		cc
PYTHON ?=	python3

WARNINGS =	-Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
		-Wpointer-arith -Wsign-compare -Wno-unused-parameter
STD =		-std=c11
OPT =		-O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
# OS fragments add include paths and libraries (PKG_CFLAGS, PKG_LIBS, ...).
OSCFLAGS =
PKG_CFLAGS =
PKG_LIBS =
EVENT_LIBS =
SECCOMP_LIBS =
CMOCKA_LIBS =

-include mk/$(OS).mk

# WERROR=1 turns warnings into errors; SANITIZE=1 builds with ASan+UBSan.
WERROR ?=	0
SANITIZE ?=	0
EXTRA_CFLAGS_0 =
EXTRA_CFLAGS_1 =	-Werror
SAN_CFLAGS_0 =		$(OPT)
SAN_CFLAGS_1 =		-O1 -g -fno-omit-frame-pointer -fstack-protector-strong \
			-fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LDFLAGS_0 =
SAN_LDFLAGS_1 =		-fsanitize=address,undefined

CFLAGS +=	$(STD) $(WARNINGS) $(SAN_CFLAGS_$(SANITIZE)) \
		$(EXTRA_CFLAGS_$(WERROR)) $(OSCFLAGS) $(PKG_CFLAGS) -I. -Icommon
LDFLAGS +=	$(SAN_LDFLAGS_$(SANITIZE))
# A change of SYSCONFDIR needs a make clean: make sees no file change.
CFLAGS +=	-DAPM2_SYSCONFDIR=\"$(SYSCONFDIR)\"

COMMON_SRCS !=	ls common/*.c 2>/dev/null || true
SUPER_SRCS !=	ls supervisor/*.c 2>/dev/null || true
LOGGER_SRCS !=	ls logger/*.c 2>/dev/null || true
FRONT_SRCS !=	ls apm2d/*.c 2>/dev/null || true
FRONT_LIB_SRCS != ls apm2d/*.c 2>/dev/null | grep -v '/main\.c$$' || true
CTL_SRCS !=	ls apm2ctl/*.c 2>/dev/null || true
UNIT_SRCS !=	ls regress/unit/test_*.c 2>/dev/null || true
HDRS !=		ls common/*.h supervisor/*.h logger/*.h apm2d/*.h apm2ctl/*.h \
		    2>/dev/null || true

COMMON_OBJS =	$(COMMON_SRCS:.c=.o)
SUPER_OBJS =	$(SUPER_SRCS:.c=.o)
LOGGER_OBJS =	$(LOGGER_SRCS:.c=.o)
FRONT_OBJS =	$(FRONT_SRCS:.c=.o)
FRONT_LIB_OBJS = $(FRONT_LIB_SRCS:.c=.o)
CTL_OBJS =	$(CTL_SRCS:.c=.o)
UNIT_PROGS =	$(UNIT_SRCS:.c=)

LIBCOMMON =	common/libcommon.a
LIBSUPER =	supervisor/libsupervisor.a
LIBLOGGER =	logger/liblogger.a
LIBFRONT =	apm2d/libfrontend.a

PROGS =		apm2d/apm2d apm2ctl/apm2ctl
TOOLS =		regress/toml/tomldec regress/integration/fakefront \
		regress/integration/apm2d-hooks regress/integration/chkchild

LIBS =		$(PKG_LIBS) $(EVENT_LIBS) $(SECCOMP_LIBS)

.SUFFIXES: .c .o

.c.o:
	$(CC) $(CFLAGS) -c $< -o $@

all: $(PROGS) $(TOOLS)

$(COMMON_OBJS) $(SUPER_OBJS) $(LOGGER_OBJS) $(FRONT_OBJS) $(CTL_OBJS): $(HDRS)

$(LIBCOMMON): $(COMMON_OBJS)
	rm -f $@
	ar rcs $@ $(COMMON_OBJS)

$(LIBSUPER): $(SUPER_OBJS)
	rm -f $@
	ar rcs $@ $(SUPER_OBJS)

$(LIBLOGGER): $(LOGGER_OBJS)
	rm -f $@
	ar rcs $@ $(LOGGER_OBJS)

$(LIBFRONT): $(FRONT_LIB_OBJS)
	rm -f $@
	ar rcs $@ $(FRONT_LIB_OBJS)

apm2d/apm2d: apm2d/main.o $(LIBFRONT) $(LIBSUPER) $(LIBLOGGER) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ apm2d/main.o $(LIBFRONT) $(LIBSUPER) \
	    $(LIBLOGGER) $(LIBFRONT) $(LIBCOMMON) $(LIBS)

apm2ctl/apm2ctl: $(CTL_OBJS) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $(CTL_OBJS) $(LIBCOMMON) $(LIBS)

regress/toml/tomldec: regress/toml/tomldec.c $(LIBCOMMON) $(HDRS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ regress/toml/tomldec.c \
	    $(LIBCOMMON) $(LIBS)

regress/integration/fakefront: regress/integration/fakefront.c $(LIBCOMMON) $(HDRS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ regress/integration/fakefront.c \
	    $(LIBCOMMON) $(LIBS)

regress/integration/chkchild: regress/integration/chkchild.c
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ regress/integration/chkchild.c

# The test build of the daemon: the same sources with the test-only hooks
# (a stand-in frontend, a forbidden-syscall trigger) compiled in.  The
# installed apm2d never contains them.
regress/integration/apm2d-hooks: $(FRONT_SRCS) $(SUPER_SRCS) $(LOGGER_SRCS) \
    $(LIBCOMMON) $(HDRS)
	$(CC) $(CFLAGS) -DAPM2D_TEST_HOOKS $(LDFLAGS) -o $@ $(FRONT_SRCS) \
	    $(SUPER_SRCS) $(LOGGER_SRCS) $(LIBCOMMON) $(LIBS)

# Each fuzz harness linked with a main() that replays its seed corpus
# (regress/fuzz/replay.c), by the ordinary compiler: make check then
# notices a harness that no longer builds, or a seed that crashes it,
# without clang.  A new harness needs a line here (run.sh fails it until).
REPLAY_PROGS =	regress/fuzz/bin/replay_chan regress/fuzz/bin/replay_dispatch \
		regress/fuzz/bin/replay_frame regress/fuzz/bin/replay_reply \
		regress/fuzz/bin/replay_request regress/fuzz/bin/replay_toml \
		regress/fuzz/bin/replay_logmsg
REPLAY_LINK =	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ regress/fuzz/replay.c

# replay_X links fuzz_X.c; fuzz_dispatch.c includes supervisor/dispatch.c,
# fuzz_logmsg.c supervisor/logctl.c.
$(REPLAY_PROGS): regress/fuzz/replay.c regress/fuzz/fuzz.h $(LIBCOMMON) $(HDRS) \
    $(REPLAY_PROGS:regress/fuzz/bin/replay_%=regress/fuzz/fuzz_%.c) \
    supervisor/dispatch.c supervisor/logctl.c
	@mkdir -p regress/fuzz/bin
	$(REPLAY_LINK) regress/fuzz/fuzz_$(@F:replay_%=%).c $(LIBCOMMON) $(LIBS)

# Unit test programs: regress/unit/test_X.c links the production libraries
# and the helpers the tests share (regress/unit/unit.c).
UNIT_OBJ =	regress/unit/unit.o

$(UNIT_OBJ): regress/unit/unit.h

$(UNIT_PROGS): $(UNIT_OBJ) regress/unit/unit.h $(LIBFRONT) $(LIBSUPER) \
    $(LIBLOGGER) $(LIBCOMMON) $(HDRS)

# CLI formatting lives with apm2ctl, outside the libraries.
regress/unit/test_fmt: regress/unit/test_fmt.c apm2ctl/fmt.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ regress/unit/test_fmt.c apm2ctl/fmt.o \
	    $(LIBCOMMON) $(LIBS) $(CMOCKA_LIBS)

.c:
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(UNIT_OBJ) $(LIBFRONT) \
	    $(LIBSUPER) $(LIBLOGGER) $(LIBFRONT) $(LIBSUPER) $(LIBCOMMON) \
	    $(LIBS) $(CMOCKA_LIBS)

unit: $(UNIT_PROGS) $(REPLAY_PROGS)

deps:
	@sh mk/deps.sh install

# check: install what is missing, build everything (on every CPU), run
# every test (regress/run.sh runs them in parallel too).
NCPU !=		getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1

check:
	@sh mk/deps.sh ensure
	@$(MAKE) -j$(NCPU) all unit WERROR=$(WERROR) SANITIZE=$(SANITIZE)
	@PYTHON="$(PYTHON)" sh regress/run.sh

# run: the demo configuration in the foreground (see README).
run:
	@sh mk/deps.sh ensure
	@$(MAKE) all WERROR=$(WERROR)
	@sh etc/run-demo.sh

fuzz:
	@sh regress/fuzz/run.sh $(FUZZTIME)

bench:
	@sh bench/run.sh $(QUICK)

# The scale ladder alone (make bench runs it after the side-by-side
# figures): N = 100 to 9,000, apm2d beside s6, supervisord and pm2;
# QUICK=1 caps the slow peers at 1,000.
bench-scale:
	@sh bench/run.sh scale $(QUICK)

# install: what users run (apm2d, apm2ctl), their manual pages and the
# sample configuration, never one already there; never the test builds.
# uninstall removes the same files, and the configuration only when it is
# still the sample.
INSTALL_DIRS =	"$(DESTDIR)" "$(BINDIR)" "$(CTLBINDIR)" "$(MANDIR)" \
		"$(SYSCONFDIR)"

install: $(PROGS)
	sh mk/install.sh $(INSTALL_DIRS)

uninstall:
	sh mk/uninstall.sh $(INSTALL_DIRS)

clean:
	rm -f $(COMMON_OBJS) $(SUPER_OBJS) $(LOGGER_OBJS) $(FRONT_OBJS) \
	    $(CTL_OBJS) $(LIBCOMMON) $(LIBSUPER) $(LIBLOGGER) $(LIBFRONT) \
	    $(PROGS) $(TOOLS) \
	    $(UNIT_PROGS) $(UNIT_OBJ)
	rm -rf regress/fuzz/bin regress/out

.PHONY: all unit deps check run fuzz bench bench-scale install uninstall \
	clean portcheck

# portcheck: every source compiled (-fsyntax-only) as OpenBSD would see
# it, on Linux, against the declarations in regress/openbsd/include: an
# OpenBSD branch that no longer compiles fails CI (.ci/run), though no
# OpenBSD host is at hand.
portcheck:
	@CC="$(CC)" sh regress/openbsd/portcheck.sh
