/* SPDX-License-Identifier: ISC */
/*
 * test_signame.c -- signal names in the config (common/signame.c).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "signame.h"

static void	 want_sig(const char *, int);
static void	 want_err(const char *, const char *);

static void
want_sig(const char *in, int signo)
{
	char	 err[SIGNAME_ERR_MAX];
	int	 got = -12345;

	if (signame_parse(in, &got, err, sizeof(err)) != 0)
		fail_msg("\"%s\": refused: %s", in, err);
	if (got != signo)
		fail_msg("\"%s\": signal %d, want %d", in, got, signo);
	assert_string_equal(err, "");
}

static void
want_err(const char *in, const char *msg)
{
	char	 err[SIGNAME_ERR_MAX];
	int	 got = -12345;

	memset(err, 'x', sizeof(err));
	if (signame_parse(in, &got, err, sizeof(err)) != -1)
		fail_msg("\"%s\": accepted as %d", in, got);
	assert_int_equal(got, -12345);	/* untouched on error */
	if (strcmp(err, msg) != 0)
		fail_msg("\"%s\": \"%s\", want \"%s\"", in, err, msg);
}

/* Upstream's pinned cases plus every name in every case and prefix. */
static void
t_accepted(void **state)
{
	static const struct {
		const char	*name;
		int		 signo;
	} all[] = {
		{ "TERM", SIGTERM }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "KILL", SIGKILL }, { "HUP", SIGHUP }, { "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 }
	};
	char	 buf[32];
	size_t	 i, j;

	want_sig("SIGTERM", SIGTERM);
	want_sig("TERM", SIGTERM);
	want_sig("sigterm", SIGTERM);
	want_sig("Term", SIGTERM);
	want_sig("SIGHUP", SIGHUP);
	want_sig("SiGuSr1", SIGUSR1);
	want_sig("usr2", SIGUSR2);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		want_sig(all[i].name, all[i].signo);
		(void)snprintf(buf, sizeof(buf), "SIG%s", all[i].name);
		want_sig(buf, all[i].signo);
		for (j = 0; buf[j] != '\0'; j++)
			if (buf[j] >= 'A' && buf[j] <= 'Z')
				buf[j] += 'a' - 'A';
		want_sig(buf, all[i].signo);
		want_sig(buf + 3, all[i].signo);
	}
}

static void
t_rejected(void **state)
{
	want_err("INVALID", "invalid signal name: INVALID");
	want_err("sigfoo", "invalid signal name: FOO");
	want_err("", "invalid signal name: ");
	want_err("SIG", "invalid signal name: ");
	want_err("sig", "invalid signal name: ");
	/* One prefix is stripped, not two. */
	want_err("SIGSIGTERM", "invalid signal name: SIGTERM");
	/* Numbers, neighbours and the signals upstream does not list. */
	want_err("15", "invalid signal name: 15");
	want_err("SIG15", "invalid signal name: 15");
	want_err("TER", "invalid signal name: TER");
	want_err("TERMS", "invalid signal name: TERMS");
	want_err("SIGUSR3", "invalid signal name: USR3");
	want_err("SIGSTOP", "invalid signal name: STOP");
	want_err("segv", "invalid signal name: SEGV");
	want_err("SI", "invalid signal name: SI");
	/* No trimming: whitespace is part of the name. */
	want_err(" TERM", "invalid signal name:  TERM");
	want_err("TERM ", "invalid signal name: TERM ");
	/* Control characters are escaped in the message. */
	want_err("TERM\n", "invalid signal name: TERM\\x0A");
	want_err("\x1b[2Jx", "invalid signal name: \\x1B[2JX");
	want_err("a\x7f", "invalid signal name: A\\x7F");
	/* Non-ASCII passes through unchanged (no Unicode case mapping). */
	want_err("sig\xc3\xa9t\xc3\xa9", "invalid signal name: \xc3\xa9T\xc3\xa9");
	/* Rust would uppercase long s to S; we do not accept it. */
	want_err("\xc5\xbfigterm", "invalid signal name: \xc5\xbfIGTERM");
}

/* A NULL input is the empty name; a NULL buffer is allowed. */
static void
t_null(void **state)
{
	char	 err[SIGNAME_ERR_MAX];
	int	 signo = 0;

	assert_int_equal(signame_parse(NULL, &signo, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid signal name: ");
	assert_int_equal(signame_parse("bogus", &signo, NULL, 0), -1);
	assert_int_equal(signame_parse("bogus", &signo, NULL, 50), -1);
	assert_int_equal(signame_parse("hup", &signo, NULL, 0), 0);
	assert_int_equal(signo, SIGHUP);
}

/* 100k bytes of input never overflow a small error buffer. */
static void
t_long(void **state)
{
	char	 err[SIGNAME_ERR_MAX], tiny[10];
	char	*s;
	size_t	 n = 100000, i;
	int	 signo;

	s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'q', n);
	s[n] = '\0';
	memset(err, 'x', sizeof(err));
	assert_int_equal(signame_parse(s, &signo, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "invalid signal name: QQQ", 24);
	for (i = 21; i < sizeof(err) - 1; i++)
		assert_int_equal(err[i], 'Q');

	tiny[0] = 'x';
	assert_int_equal(signame_parse(s, &signo, tiny, 0), -1);
	assert_int_equal(tiny[0], 'x');
	assert_int_equal(signame_parse(s, &signo, tiny, 1), -1);
	assert_string_equal(tiny, "");
	assert_int_equal(signame_parse(s, &signo, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "invalid s");

	/* An escape that does not fit whole is left out whole. */
	memset(s, '\n', n);
	assert_int_equal(signame_parse(s, &signo, err, 27), -1);
	assert_string_equal(err, "invalid signal name: \\x0A");
	free(s);
}

/* A cut never leaves half a UTF-8 character behind. */
static void
t_utf8_cut(void **state)
{
	char	 err[32];
	int	 signo;

	/* "invalid signal name: " is 21 bytes; room for 21 + 2 + 1 + 1. */
	assert_int_equal(signame_parse("AB\xe6\x97\xa5", &signo, err, 25), -1);
	assert_string_equal(err, "invalid signal name: AB");
	assert_int_equal(signame_parse("AB\xe6\x97\xa5", &signo, err, 27), -1);
	assert_string_equal(err, "invalid signal name: AB\xe6\x97\xa5");
	assert_int_equal(signame_parse("\xf0\x9f\x98\x80", &signo, err, 24),
	    -1);
	assert_string_equal(err, "invalid signal name: ");
}

static void
t_names(void **state)
{
	static const int	 sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGKILL,
				    SIGHUP, SIGUSR1, SIGUSR2 };
	static const char	*names[] = { "SIGTERM", "SIGINT", "SIGQUIT",
				    "SIGKILL", "SIGHUP", "SIGUSR1", "SIGUSR2" };
	size_t			 i;
	int			 signo;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		assert_string_equal(signame_name(sigs[i]), names[i]);
		/* The name reads back to the same signal. */
		assert_int_equal(signame_parse(signame_name(sigs[i]), &signo,
		    NULL, 0), 0);
		assert_int_equal(signo, sigs[i]);
	}
	assert_null(signame_name(0));
	assert_null(signame_name(-1));
	assert_null(signame_name(SIGSEGV));
	assert_null(signame_name(SIGSTOP));
	assert_null(signame_name(SIGCHLD));
	assert_null(signame_name(1000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_accepted),
		cmocka_unit_test(t_rejected),
		cmocka_unit_test(t_null),
		cmocka_unit_test(t_long),
		cmocka_unit_test(t_utf8_cut),
		cmocka_unit_test(t_names),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
