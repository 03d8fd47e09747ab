// SPDX-License-Identifier: GPL-2.0
/*
 * agent.* of every line: agent.id, stable per host (a random UUID made at
 * the first start and kept in STATE_DIR/agent-id), and agent.ephemeral_id,
 * new at each start. custos trace without a "state_dir" in its config never
 * writes: it reuses the id custos run keeps in the default state directory
 * if there is one, else its agent.id is its agent.ephemeral_id.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_priv.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "lib/version.h"

#define AGENT_ID_FILE "agent-id"

/* The id kept in path: 0, or -errno (-EINVAL: not one UUID and a newline). */
static int id_read(const char *path, char id[UUID_STR_LEN])
{
	char buf[UUID_STR_LEN + 1];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	if (n != UUID_STR_LEN || buf[UUID_STR_LEN - 1] != '\n' || !uuid_valid(buf, n - 1))
		return -EINVAL;
	memcpy(id, buf, UUID_STR_LEN - 1);
	id[UUID_STR_LEN - 1] = '\0';
	return 0;
}

/* id saved as path (0644: it is no secret), written whole then renamed into place. */
static int id_write(const char *dir, const char *path, const char *id)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (dprintf(fd, "%s\n", id) != UUID_STR_LEN || fsync(fd) || rename(tmp, path))
		ret = -errno ?: -EIO;
	close(fd);
	if (ret)
		unlink(tmp);
	return ret;
}

/* agent.id from dir: the one kept there, else a new one saved there when create. */
static void id_from_dir(struct event_agent_id *id, const char *dir, bool create)
{
	char path[PATH_MAX];
	int ret;

	if (snprintf(path, sizeof(path), "%s/" AGENT_ID_FILE, dir) >= (int)sizeof(path))
		return;
	ret = id_read(path, id->id);
	if (ret == 0 || !create)
		return;
	if (ret != -ENOENT)
		log_warn("%s: %s; making a new agent.id", path,
			 ret == -EINVAL ? "not a UUID" : strerror(-ret));
	if (uuid_random(id->id) == 0) {
		ret = id_write(dir, path, id->id);
		if (ret == 0)
			return;
		log_warn(
		    "cannot save agent.id in %s: %s; agent.id is this run's agent.ephemeral_id",
		    path, strerror(-ret));
	}
	memcpy(id->id, id->ephemeral_id, UUID_STR_LEN);
}

int agent_identity_init(struct agent *a)
{
	struct event_agent_id *id = &a->id;
	bool run = !strcmp(a->opts->mode, "run");
	ssize_t n;
	int ret;

	memset(id, 0, sizeof(*id));
	ret = uuid_random(id->ephemeral_id);
	if (ret) {
		log_error("cannot make agent.ephemeral_id: %s", strerror(-ret));
		return ret;
	}
	memcpy(id->id, id->ephemeral_id, UUID_STR_LEN);
	id->version = version_string();
	id->pid = getpid();
	n = readlink("/proc/self/exe", id->exe, sizeof(id->exe) - 1);
	id->exe[n > 0 ? n : 0] = '\0';
	if (run || a->cfg->state_dir)
		id_from_dir(id, a->cfg->state_dir ?: CONFIG_STATE_DIR_DEFAULT, true);
	else
		id_from_dir(id, CONFIG_STATE_DIR_DEFAULT, false);
	return 0;
}
