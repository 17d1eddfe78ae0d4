#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Every key ecosystem.toml(5) documents is effective or said not to be
(issue 18).  This walks the man page's key list (each `.It Ic KEY`
under THE DAEMON TABLE, CREDENTIAL PROFILES, PROCESSES and their
subsections) and holds each key to its evidence:

  a test    the test, named here, that shows the key changing what
            apm2d does (it must exist in that file, under that name);
  warned    `apm2d -n` on a file that sets the key warns about it with
            file:line:col (the health checks and the credentials,
            checked but not acted on yet).

A key added to the man page without evidence, or evidence for a key the
page no longer has, fails the walk."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import APM2D, TOP, run, test  # noqa: E402

MAN = os.path.join(TOP, "apm2d", "ecosystem.toml.5")
IT = os.path.join(TOP, "regress", "integration")
UNIT = os.path.join(TOP, "regress", "unit")

SECTIONS = {"THE DAEMON TABLE": "daemon", "CREDENTIAL PROFILES":
            "credentials", "PROCESSES": "processes", "Restart policy":
            "restart", "Backoff": "backoff", "Health checks": "health",
            "Output": "log", "Log rotation": "rotation", "Stopping":
            "shutdown", "Resource limits": "limits", "Credential binding":
            "binding"}

T = "test"
W = "warned"
CRED = ('[[credentials]]\nid = "k"\nprovider = "claude"\n'
        'auth_method = "api_key"\n')
PROC = '[[processes]]\nname = "a"\ncommand = "/bin/true"\n'
HEALTH = PROC + '[processes.health]\ntype = "tcp"\nhost = "h"\nport = 1\n'
BIND = CRED + PROC + '[processes.credentials]\nprofile = "k"\n'

EVIDENCE = {
    # [daemon]
    ("daemon", "pid_file"): (T, "test_daemon.py",
                             "second_daemon_refused_pid_file_and_socket"),
    ("daemon", "socket"): (T, "test_daemon.py",
                           "sigterm_removes_socket_and_pid_file"),
    ("daemon", "log_dir"): (T, "test_logs.py",
                            "files_and_directories_belong_to_the_daemon"),
    ("daemon", "state_file"): (T, "test_intent.py",
                               "hand_intent_and_counts_outlive_a_sigterm_"
                               "of_the_daemon"),
    ("daemon", "user"): (T, "test_daemon.py",
                         "frontend_unprivileged_in_chroot_as_root"),
    ("daemon", "log_user"): (T, "test_logger.py", "logger_is_sandboxed"),
    ("daemon", "chroot"): (T, "test_daemon.py",
                           "frontend_unprivileged_in_chroot_as_root"),
    ("daemon", "socket_mode"): (T, "test_security.py",
                                "socket_mode_keeps_a_user_out"),
    ("daemon", "socket_group"): (T, "test_paths.py",
                                 "socket_mode_and_group_at_start"),
    ("daemon", "admin_group"): (T, "test_security.py",
                                "admin_is_judged_by_the_connecting_"
                                "process_groups"),
    ("daemon", "shutdown_timeout"): (T, "test_supervision.py",
                                     "daemon_shutdown_kills_stubborn_"
                                     "children_by_the_deadline"),
    ("daemon", "idle_timeout"): (T, "test_limits.py",
                                 "idle_connections_are_closed"),
    ("daemon", "max_connections_per_user"): (
        T, "test_limits.py", "administrators_keep_reserved_slots"),
    ("daemon", "log_memory"): (T, "test_logring.c", "test_cap"),
    ("daemon", "max_open_log_files"): (T, "test_logfiles.py",
                                       "every_line_once_under_the_cap"),
    ("daemon", "log_file"): (T, "test_daemonlog.py",
                             "log_file_takes_all_three_processes_and_"
                             "sigusr1_reopens_it"),
    ("daemon", "metrics_file"): (T, "test_metrics.py",
                                 "metrics_file_is_replaced_whole_every_"
                                 "interval"),
    ("daemon", "metrics_interval"): (T, "test_metrics.py",
                                     "metrics_file_is_replaced_whole_"
                                     "every_interval"),
    # [[credentials]]
    ("credentials", "id"): (W, CRED + PROC, "credentials[0] (k)"),
    ("credentials", "provider"): (W, CRED + PROC, "credentials[0] (k)"),
    ("credentials", "auth_method"): (W, CRED + PROC, "credentials[0] (k)"),
    ("credentials", "refresh_before_expiry"): (
        W, CRED + 'refresh_before_expiry = "5m"\n' + PROC,
        "credentials[0] (k)"),
    # [[processes]]
    ("processes", "name"): (T, "test_supervision.py",
                            "exit_codes_stopped_and_crashed"),
    ("processes", "command"): (T, "test_supervision.py",
                               "spawn_failures_name_the_os_error"),
    ("processes", "args"): (T, "test_reload.py",
                            "each_kind_of_change_touches_only_its_"
                            "process"),
    ("processes", "cwd"): (T, "test_supervision.py",
                           "spawn_failures_name_the_os_error"),
    ("processes", "env"): (T, "test_logs.py",
                           "injected_environment_secrets_are_masked"),
    ("processes", "instances"): (T, "test_logs.py",
                                 "short_lived_processes_lose_nothing"),
    ("processes", "user"): (T, "test_supervision.py",
                            "run_as_user_with_its_groups_only"),
    ("processes", "group"): (T, "test_supervision.py",
                             "group_sets_the_process_gid"),
    ("processes", "umask"): (T, "test_supervision.py",
                             "child_hygiene_clean_environment"),
    ("processes", "autostart"): (T, "test_intent.py",
                                 "hand_intent_and_counts_outlive_a_"
                                 "sigterm_of_the_daemon"),
    ("processes", "inherit_env"): (T, "test_supervision.py",
                                   "inherit_env_passes_the_daemon_"
                                   "environment"),
    # [processes.restart] and its backoff
    ("restart", "max_restarts"): (T, "test_restart.c",
                                  "test_breaker_sequence"),
    ("restart", "restart_window"): (T, "test_restart.c",
                                    "test_sliding_window"),
    ("restart", "min_uptime"): (T, "test_supervision.py",
                                "min_uptime_resets_the_backoff"),
    ("restart", "restart_on_success"): (T, "test_supervision.py",
                                        "exit_codes_stopped_and_crashed"),
    ("restart", "backoff"): (T, "test_supervision.py",
                             "exponential_backoff_doubles_up_to_the_cap"),
    ("backoff", "type"): (T, "test_supervision.py",
                          "linear_backoff_grows_by_the_increment"),
    # [processes.health]: checked, not run yet
    ("health", "type"): (W, HEALTH, "processes[0].health"),
    ("health", "interval"): (W, HEALTH + 'interval = "9s"\n',
                             "processes[0].health"),
    ("health", "timeout"): (W, HEALTH + 'timeout = "2s"\n',
                            "processes[0].health"),
    ("health", "unhealthy_threshold"): (
        W, HEALTH + "unhealthy_threshold = 2\n", "processes[0].health"),
    ("health", "healthy_threshold"): (
        W, HEALTH + "healthy_threshold = 2\n", "processes[0].health"),
    ("health", "initial_delay"): (W, HEALTH + 'initial_delay = "1s"\n',
                                  "processes[0].health"),
    # [processes.log]
    ("log", "out_file"): (T, "test_logs.py",
                          "programs_naming_one_file_share_it"),
    ("log", "err_file"): (T, "test_logger.py",
                          "dev_null_with_instances_creates_no_file"),
    ("log", "combined_file"): (T, "test_logs.py",
                               "stdout_and_stderr_separate_merged_and_"
                               "combined"),
    ("log", "merge_stderr"): (T, "test_logs.py",
                              "merged_streams_share_one_pipe"),
    ("log", "timestamp"): (T, "test_reload.py",
                           "timestamps_turned_on_apply_to_the_same_file"),
    ("log", "timestamp_format"): (T, "test_logs.py",
                                  "timestamps_are_utc_in_the_configured_"
                                  "format"),
    ("log", "redact"): (T, "test_logs.py", "redaction_patterns_end_to_end"),
    ("log", "rotation"): (T, "test_logs.py",
                          "rotation_by_size_keeps_max_files"),
    ("rotation", "max_size"): (T, "test_reload.py",
                               "a_new_rotation_size_applies_in_place"),
    ("rotation", "max_files"): (T, "test_logs.py",
                                "rotation_by_size_keeps_max_files"),
    ("rotation", "compress"): (T, "test_logs.py",
                               "rotated_generations_are_compressed"),
    ("rotation", "mode"): (T, "test_logfile.c", "test_time_rotation"),
    # [processes.shutdown]
    ("shutdown", "timeout"): (T, "test_supervision.py",
                              "without_kill_delay_sigkill_follows_the_"
                              "timeout"),
    ("shutdown", "signal"): (T, "test_reload.py",
                             "a_removed_process_stops_with_its_own_"
                             "signal"),
    ("shutdown", "kill_delay"): (T, "test_supervision.py",
                                 "kill_delay_sends_the_signal_again_"
                                 "before_sigkill"),
    ("shutdown", "force_kill"): (T, "test_supervision.py",
                                 "stop_without_force_kill_leaves_it_"
                                 "running"),
    ("shutdown", "pre_shutdown_commands"): (
        T, "test_supervision.py",
        "pre_shutdown_commands_run_first_as_the_process"),
    # [processes.limits]
    ("limits", "nofile"): (T, "test_contain.py",
                           "limits_apply_and_nproc_stops_a_fork_bomb"),
    ("limits", "nproc"): (T, "test_contain.py",
                          "limits_apply_and_nproc_stops_a_fork_bomb"),
    ("limits", "core"): (T, "test_contain.py",
                         "limits_apply_and_nproc_stops_a_fork_bomb"),
    ("limits", "cpu"): (T, "test_contain.py",
                        "limits_apply_and_nproc_stops_a_fork_bomb"),
    ("limits", "as"): (T, "test_contain.py",
                       "limits_apply_and_nproc_stops_a_fork_bomb"),
    ("limits", "data"): (T, "test_contain.py",
                         "limits_apply_and_nproc_stops_a_fork_bomb"),
    ("limits", "memory_max"): (T, "test_contain.py",
                               "oom_kill_is_a_reason_of_its_own"),
    ("limits", "memory_high"): (T, "test_contain.py",
                                "cgroup_limits_in_force_or_said_why"),
    ("limits", "pids_max"): (T, "test_contain.py",
                             "pids_max_stops_a_fork_bomb"),
    ("limits", "cpu_max"): (T, "test_contain.py",
                            "cgroup_limits_in_force_or_said_why"),
    ("limits", "io_weight"): (T, "test_contain.py",
                              "cgroup_limits_in_force_or_said_why"),
    # [processes.credentials]: checked, not acted on yet
    ("binding", "profile"): (W, BIND, "processes[0].credentials"),
    ("binding", "hot_swap"): (W, BIND + "hot_swap = true\n",
                              "processes[0].credentials"),
    ("binding", "hot_swap_signal"): (W, BIND + 'hot_swap_signal = "USR2"\n',
                                     "processes[0].credentials"),
    ("binding", "auto_refresh"): (W, BIND + "auto_refresh = true\n",
                                  "processes[0].credentials"),
    ("binding", "env_mapping"): (W, BIND + 'env_mapping = { api_key = '
                                 '"ANTHROPIC_API_KEY" }\n',
                                 "processes[0].credentials"),
    ("binding", "config_file"): (W, BIND + 'config_file = "/tmp/c.json"\n',
                                 "processes[0].credentials"),
}


def man_keys():
    """(section, key) for each `.It Ic KEY` of the key lists."""
    sec = None
    keys = set()
    with open(MAN) as f:
        for line in f:
            m = re.match(r"\.S[hs] (.*)", line)
            if m:
                sec = SECTIONS.get(m.group(1).strip())
                continue
            m = re.match(r"\.It Ic (\w+)", line)
            if m and sec is not None:
                keys.add((sec, m.group(1)))
    return keys


def defined(name, fn):
    """True if the test file defines fn (def NAME( or NAME(void **)."""
    path = os.path.join(UNIT if name.endswith(".c") else IT, name)
    with open(path) as f:
        src = f.read()
    pat = (r"\n%s\(void \*\*" if name.endswith(".c") else r"\ndef %s\(\)")
    return re.search(pat % re.escape(fn), src) is not None


@test
def every_documented_key_has_its_evidence():
    keys = man_keys()
    assert len(keys) > 60, sorted(keys)    # the walk found the lists
    missing = sorted(keys - set(EVIDENCE))
    assert not missing, "keys in ecosystem.toml.5 without evidence: %r" % (
        missing,)
    stale = sorted(set(EVIDENCE) - keys)
    assert not stale, "evidence for keys the page lacks: %r" % (stale,)


@test
def each_named_test_exists():
    bad = [(k, e[1], e[2]) for k, e in EVIDENCE.items()
           if e[0] == T and not defined(e[1], e[2])]
    assert not bad, bad


@test
def keys_not_acted_on_are_warned_about_with_their_place():
    with tempfile.TemporaryDirectory(prefix="apm2-keys-") as d:
        for k, e in sorted(EVIDENCE.items()):
            if e[0] != W:
                continue
            path = os.path.join(d, "%s-%s.toml" % k)
            with open(path, "w") as f:
                f.write(e[1])
            r = subprocess.run([APM2D, "-n", "-f", path], timeout=30,
                               capture_output=True, text=True)
            assert r.returncode == 0, (k, r.stderr)
            assert re.search(r"%s:\d+:\d+: warning: %s" % (
                re.escape(path), re.escape(e[2])), r.stderr), (k, r.stderr)


if __name__ == "__main__":
    run()
