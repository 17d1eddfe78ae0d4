/* SPDX-License-Identifier: ISC */
/*
 * test_proctree.c -- ptable_trees() (supervisor/procstat.c): the
 * processes below given roots, found through the kernel's children
 * lists of every thread, and nothing else.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "supervisor/child.h"

static void	*thread_fork(void *);
static pid_t	 tree_child(int);
static int	 has(const struct ptable *, pid_t);

/* A thread that forks: its child is on that thread's children list. */
static void *
thread_fork(void *arg)
{
	int	*wfd = arg;
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		for (;;)
			pause();
	}
	if (write(*wfd, &pid, sizeof(pid)) != sizeof(pid))
		_exit(1);
	return (NULL);
}

/*
 * A child whose tree is: itself, a child forked from a second thread,
 * and a grandchild below a child of its main thread.  It reports the
 * three pids below it on wfd, then waits to be killed.
 */
static pid_t
tree_child(int wfd)
{
	pthread_t	th;
	pid_t		pid, kid, grand;
	int		p[2];

	if ((pid = fork()) != 0)
		return (pid);
	if (pipe(p) == -1)
		_exit(1);
	if ((kid = fork()) == 0) {
		if ((grand = fork()) == 0) {
			for (;;)
				pause();
		}
		if (write(p[1], &grand, sizeof(grand)) != sizeof(grand))
			_exit(1);
		for (;;)
			pause();
	}
	if (read(p[0], &grand, sizeof(grand)) != sizeof(grand))
		_exit(1);
	if (write(wfd, &kid, sizeof(kid)) != sizeof(kid) ||
	    write(wfd, &grand, sizeof(grand)) != sizeof(grand))
		_exit(1);
	if (pthread_create(&th, NULL, thread_fork, &wfd) != 0)
		_exit(1);
	for (;;)
		pause();
}

static int
has(const struct ptable *t, pid_t pid)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (t->p[i].pid == pid)
			return (1);
	return (0);
}

static void
test_trees_below_roots(void **state)
{
	struct ptable	t;
	pid_t		root, other, below[3], roots[2];
	int		p[2], st, i;

	assert_int_equal(pipe(p), 0);
	root = tree_child(p[1]);
	for (i = 0; i < 3; i++)
		assert_int_equal(read(p[0], &below[i], sizeof(below[i])),
		    (ssize_t)sizeof(below[i]));
	if ((other = fork()) == 0) {
		for (;;)
			pause();
	}
	roots[0] = root;
	roots[1] = 999999999;		/* no such process: skipped */
	if (ptable_trees(&t, roots, 2) == -1) {
		/* A kernel without children lists: the caller scans. */
		assert_null(t.p);
		assert_int_equal(t.n, 0);
	} else {
		assert_int_equal(t.n, 4);
		assert_true(has(&t, root));
		for (i = 0; i < 3; i++)
			assert_true(has(&t, below[i]));
		assert_false(has(&t, other));
		assert_false(has(&t, getpid()));
		for (i = 0; i < (int)t.n; i++)
			if (t.p[i].pid == below[1])
				assert_int_equal(t.p[i].ppid, below[0]);
		ptable_free(&t);
	}
	/* Nothing at all below nothing. */
	assert_true(ptable_trees(&t, roots + 1, 1) == -1 || t.n == 0);
	ptable_free(&t);
	for (i = 0; i < 3; i++)
		(void)kill(below[i], SIGKILL);
	(void)kill(root, SIGKILL);
	(void)kill(other, SIGKILL);
	assert_int_equal(waitpid(root, &st, 0), root);
	assert_int_equal(waitpid(other, &st, 0), other);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trees_below_roots),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
