/* SPDX-License-Identifier: ISC */
/*
 * <sys/sysctl.h>, OpenBSD's part that apm2d uses, for make portcheck:
 * the kern.proc names and struct kinfo_proc with the members
 * supervisor/procstat.c reads, with OpenBSD's types (not its layout:
 * nothing here is ever run).
 */
#ifndef PORTCHECK_SYS_SYSCTL_H
#define PORTCHECK_SYS_SYSCTL_H

#include <sys/types.h>
#include <stdint.h>

#define CTL_KERN		1
#define KERN_BOOTTIME		21
#define KERN_PROC_ARGS		55
#define KERN_PROC		66

#define KERN_PROC_ALL		0
#define KERN_PROC_PID		1
#define KERN_PROC_PGRP		2
#define KERN_PROC_SESSION	3

#define KERN_PROC_ARGV		1
#define KERN_PROC_NARGV		2
#define KERN_PROC_ENV		3
#define KERN_PROC_NENV		4

struct kinfo_proc {
	int32_t		p_flag;
	int32_t		p_pid;
	int32_t		p_ppid;
	int32_t		p_sid;
	int32_t		p__pgid;
	int32_t		p_tpgid;
	uint32_t	p_uid;
	uint32_t	p_ruid;
	uint32_t	p_gid;
	uint32_t	p_rgid;
	int8_t		p_stat;
	char		p_comm[24];
	int32_t		p_vm_rssize;
	uint64_t	p_ustart_sec;
	uint32_t	p_ustart_usec;
	uint32_t	p_uutime_sec;
	uint32_t	p_uutime_usec;
	uint32_t	p_ustime_sec;
	uint32_t	p_ustime_usec;
	int32_t		p_tid;
};

int	sysctl(const int *, u_int, void *, size_t *, void *, size_t);

#endif
