// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's lifecycle: start (config, watches, the BPF side, outputs,
 * the reader), the main loop (records to events, timers, signals), stop
 * (everything left in the ring and the queue, then the summaries).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/agent_priv.h"
#include "lib/log.h"

static void on_event(const struct event *ev, void *ctx)
{
	struct agent *a = ctx;
	int err = output_event(a->out, ev);

	control_event(a->control, ev); /* and to custos trace, attached */
	/* Alerts come from the rules, inside this call, and go out right after what fired them. */
	rules_event(a->rules, ev);

	if (err && !a->output_error) {
		a->output_error = err;
		a->stop = true;
		if (err != -EPIPE)
			log_error("cannot write events: %s", strerror(-err));
	}
}

static void handle_record(void *ctx, const void *data, size_t size)
{
	struct agent *a = ctx;

	events_record(a->events, data, size);
}

static int setup_fds(struct agent *a, int *epfd, int *sigfd, int *timerfd)
{
	struct itimerspec tick = {.it_interval = {0, TICK_MS * 1000000L},
				  .it_value = {0, TICK_MS * 1000000L}};
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	*sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	*timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	*epfd = epoll_create1(EPOLL_CLOEXEC);
	if (*sigfd < 0 || *timerfd < 0 || *epfd < 0 || timerfd_settime(*timerfd, 0, &tick, NULL))
		return -errno;
	ev.data.fd = *sigfd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, *sigfd, &ev))
		return -errno;
	ev.data.fd = *timerfd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, *timerfd, &ev))
		return -errno;
	ev.data.fd = a->wake_fd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, a->wake_fd, &ev))
		return -errno;
	ev.data.fd = notify_fd(a->notify);
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	ev.data.fd = control_fd(a->control);
	if (a->control && epoll_ctl(*epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

static void handle_signal(struct agent *a, int sigfd)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			agent_reload(a);
		else
			a->stop = true;
		break;
	}
}

static void flush_opener(const struct custos_open_file *of, void *events)
{
	events_flush_opener(events, of);
}

static void flush_reader(const struct custos_reader_key *key, const struct custos_reader *r,
			 void *events)
{
	events_flush_reader(events, key, r);
}

/* Interim summaries of the watched files open now (events_flush_begin). */
static void flush_open_files(struct agent *a, bool judge_lost)
{
	events_flush_begin(a->events);
	if (loader_each_open_file(a->loader, flush_opener, a->events) ||
	    loader_each_file_reader(a->loader, flush_reader, a->events))
		judge_lost = false; /* a table not walked whole is no proof of a loss */
	events_flush_end(a->events, judge_lost);
}

static void on_tick(struct agent *a, uint64_t tick)
{
	uint64_t sec = tick / TICKS_PER_SEC;

	/* At most one rescan a tick, however busy the directories are. */
	if (a->rescan_pending) {
		a->rescan_pending = false;
		agent_rescan(a);
	}
	if (a->dbprobe) {
		dbprobe_tick(a->dbprobe);
		agent_log_db_warnings(a);
	}
	if (tick % TICKS_PER_SEC)
		return;
	events_tick(a->events);
	control_tick(a->control);
	agent_tick_rules(a);
	agent_check_losses(a);
	if (a->sinks) {
		sinks_take_gaps(a->sinks, agent_emit_output_gap, a);
		if (sinks_stdout_closed(a->sinks)) {
			a->output_error = -EPIPE;
			a->stop = true;
		}
	}
	if (sec % a->cfg->flush_interval_s == 0)
		flush_open_files(a, !reader_busy(&a->reader));
	if (a->cfg->heartbeat_interval_s && sec % a->cfg->heartbeat_interval_s == 0)
		agent_emit_stats(a, "agent-heartbeat");
	if (sec % RESCAN_SECONDS == 0) {
		agent_rescan(a);
		if (a->dbprobe)
			dbprobe_scan(a->dbprobe);
	}
}

static void drain(struct agent *a, int max_chunks)
{
	while (max_chunks-- != 0 && reader_drain(&a->reader, handle_record, a))
		;
}

static int loop(struct agent *a)
{
	int epfd = -1, sigfd = -1, timerfd = -1, ret;
	struct epoll_event evs[5];
	uint64_t ticks = 0, count;

	ret = setup_fds(a, &epfd, &sigfd, &timerfd);
	if (ret) {
		log_error("cannot set up the event loop: %s", strerror(-ret));
		goto out_close;
	}
	agent_emit_start(a);
	output_flush(a->out);
	while (!a->stop) {
		/* A backlog keeps the loop turning; signals and timers are looked at in between. */
		int i, n = epoll_wait(epfd, evs, 5, reader_busy(&a->reader) ? 0 : -1);

		if (n < 0 && errno != EINTR) {
			ret = -errno;
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == sigfd) {
				handle_signal(a, sigfd);
			} else if (evs[i].data.fd == a->wake_fd) {
				if (read(a->wake_fd, &count, sizeof(count)) < 0)
					continue;
			} else if (evs[i].data.fd == notify_fd(a->notify)) {
				/* A name changed where configured paths live: resolve them soon. */
				a->rescan_pending |= notify_drain(a->notify);
			} else if (a->control && evs[i].data.fd == control_fd(a->control)) {
				control_handle(a->control);
			} else if (evs[i].data.fd == timerfd &&
				   read(timerfd, &count, sizeof(count)) == sizeof(count)) {
				while (count--)
					on_tick(a, ++ticks);
			}
		}
		drain(a, DRAIN_CHUNKS);
		/* Under load the lines go out in full batches; when the backlog is gone, at once.
		 */
		if (!reader_busy(&a->reader))
			output_flush(a->out);
		control_flush(a->control);
	}
	/* Take everything left in the ring and the queue, then report files still open. */
	reader_stop(&a->reader);
	drain(a, -1);
	flush_open_files(a, true);
	agent_check_losses(a);
	if (a->sinks)
		sinks_take_gaps(a->sinks, agent_emit_output_gap, a);
	agent_emit_stats(a, "agent-stop");
	output_drain(a->out);
	control_flush(a->control);
out_close:
	if (epfd >= 0)
		close(epfd);
	if (sigfd >= 0)
		close(sigfd);
	if (timerfd >= 0)
		close(timerfd);
	return ret;
}

/*
 * custos run serves its control socket (custos status, custos trace). The
 * events matter more than the socket: if it cannot be served, the agent
 * says so and runs without.
 */
static void start_control(struct agent *a)
{
	const char *path = a->cfg->control_socket ?: CONTROL_SOCKET_DEFAULT;
	char err[512];

	if (strcmp(a->opts->mode, "run") || !path[0])
		return;
	a->control = control_new(path, a, err, sizeof(err));
	if (!a->control)
		log_warn("%s; custos status and custos trace cannot reach this agent", err);
}

static int start(struct agent *a)
{
	struct loader_options lopts = {
	    .agent_tgid = getpid(),
	    .ring_buffer_mb = a->cfg->ring_buffer_mb,
	    .verbose = a->opts->verbose,
	};
	char err[512], host[256] = "localhost";
	sigset_t mask;
	int ret;

	/* Before any thread starts: signals are for the main loop's signalfd only. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	gethostname(host, sizeof(host) - 1);
	ret = agent_preflight(a, a->cfg);
	if (ret)
		return ret;
	ret = agent_open_chain(a, a->cfg, &a->chain);
	if (ret)
		return ret;
	a->notify = notify_new();
	if (!a->notify) {
		log_error("cannot set up inotify: %s", strerror(errno));
		return -errno;
	}
	notify_set(a->notify, a->cfg);
	a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->wake_fd < 0) {
		log_error("cannot set up the reader's eventfd: %s", strerror(errno));
		return -errno;
	}
	if (watch_resolve(a->cfg, &a->watches)) {
		log_error("out of memory resolving the watches");
		return -ENOMEM;
	}
	agent_log_watch_warnings(&a->watches);
	a->watches.generation = a->generation = 1;
	lopts.watch_inodes_max = watch_map_size(&a->watches);
	a->loader = loader_start(&lopts, err, sizeof(err));
	if (!a->loader) {
		ret = -errno;
		log_error("%s", err);
		if ((ret == -EPERM || ret == -EACCES) && geteuid() != 0)
			log_error("custos %s needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN)",
				  a->opts->mode);
		a->kernel_unsupported = ret == -EOPNOTSUPP;
		return ret;
	}
	a->maps = (struct watch_maps){
	    .inodes = loader_map_fd(a->loader, LOADER_MAP_WATCH_INODES),
	    .devs = loader_map_fd(a->loader, LOADER_MAP_WATCH_DEVS),
	    .comms = loader_map_fd(a->loader, LOADER_MAP_EXCLUDE_COMMS),
	    .uids = loader_map_fd(a->loader, LOADER_MAP_EXCLUDE_UIDS),
	    .exes = loader_map_fd(a->loader, LOADER_MAP_EXCLUDE_EXES),
	    .file_dirs = loader_map_fd(a->loader, LOADER_MAP_FILE_WATCH_DIRS),
	    .endpoints = loader_map_fd(a->loader, LOADER_MAP_ENDPOINTS),
	    .unix_endpoints = loader_map_fd(a->loader, LOADER_MAP_UNIX_ENDPOINTS),
	};
	if (watch_apply(&a->maps, &a->watches, NULL)) {
		log_error("cannot write the watch maps: %s", strerror(errno));
		return -EIO;
	}
	agent_watches_changed(a);
	ret = loader_seed_open_files(a->loader);
	if (ret)
		log_warn("cannot look for watched files open before the agent started: %s",
			 strerror(-ret));
	ret = agent_identity_init(a);
	if (ret)
		return ret;
	a->events = events_new(host, on_event, a);
	if (a->events)
		events_set_agent_id(a->events, &a->id);
	a->out = output_new(stdout, a->opts->format, &a->opts->filter);
	if (a->out && a->opts->format == OUTPUT_HUMAN) {
		output_set_color(a->out, a->opts->color);
		output_set_reorder(a->out, a->opts->reorder_ns);
	}
	snprintf(a->host, sizeof(a->host), "%s", host);
	if (agent_losses_init(a))
		return -ENOMEM;
	/* custos run writes to its outputs; trace to the terminal. */
	if (a->out && a->opts->format == OUTPUT_JSON && !strcmp(a->opts->mode, "run")) {
		a->sinks = sinks_new(a->cfg, host, err, sizeof(err));
		if (!a->sinks) {
			log_error("%s", err);
			return -EINVAL;
		}
		output_set_sinks(a->out, a->sinks);
	}
	ret = reader_init(&a->reader, a->loader, (size_t)a->cfg->queue_mb << 20, a->wake_fd);
	if (ret) {
		log_error("cannot set up the ring buffer's reader: %s", strerror(-ret));
		return ret;
	}
	a->reader_ready = true;
	if (!a->events || !a->out) {
		log_error("cannot set up event handling: %s", strerror(errno));
		return -ENOMEM;
	}
	if (a->chain) {
		output_set_chain(a->out, a->chain);
		events_set_chained(a->events, true);
	}
	events_set_config(a->events, a->cfg, &a->watches);
	agent_start_db_probes(a);
	if (agent_start_rules(a))
		return -ENOMEM;
	if (reader_start(&a->reader)) {
		log_error("cannot start the ring buffer reader thread");
		return -ENOMEM;
	}
	start_control(a);
	return 0;
}

int agent_run(struct agent_options *opts)
{
	struct agent a = {.opts = opts, .wake_fd = -1};
	int ret;

	a.cfg = opts->config ? opts->config : agent_load_config(opts);
	opts->config = NULL;
	if (!a.cfg)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a.started);
	clock_gettime(CLOCK_REALTIME, &a.started_real);
	ret = start(&a);
	if (ret == 0)
		ret = loop(&a);
	control_free(a.control);
	if (a.reader_ready)
		reader_destroy(&a.reader);
	notify_free(a.notify);
	dbprobe_free(a.dbprobe);
	rules_free(a.rules);
	if (a.wake_fd >= 0)
		close(a.wake_fd);
	if (a.out)
		output_drain(a.out);
	sinks_stop(a.sinks, SINKS_DEADLINE_MS);
	output_free(a.out);
	chain_free(a.chain);
	events_free(a.events);
	agent_losses_free(&a);
	loader_stop(a.loader);
	watch_set_free(&a.watches);
	config_free(a.cfg);
	if (a.output_error == -EPIPE)
		return 0;
	if (a.kernel_unsupported)
		return AGENT_EXIT_KERNEL;
	return ret || a.output_error ? 1 : 0;
}
